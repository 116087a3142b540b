// DataCollect loader. Include after wasm_exec.js:
//   <script src="wasm_exec.js"></script>
//   <script src="web/datacollect.js"></script>
// It defines window.datacollect with a `ready` Promise at once, then loads and
// runs web/datacollect.wasm, which installs the API and resolves `ready` with
// the API object. If loading fails, `ready` rejects with an Error whose code is
// "ELOAD". The wasm URL can be overridden with data-wasm="..." on the script tag.
(function () {
  'use strict';
  const api = (window.datacollect = window.datacollect || {});
  if (api.ready) return; // loaded twice
  api.ready = new Promise(function (resolve, reject) {
    Object.defineProperty(api, '_resolveReady', { value: resolve, configurable: true });
    Object.defineProperty(api, '_rejectReady', { value: reject, configurable: true });
  });
  const script = document.currentScript;
  const wasmURL = new URL(
    (script && script.dataset.wasm) || 'datacollect.wasm',
    script ? script.src : document.baseURI
  );

  async function instantiate(go) {
    if (WebAssembly.instantiateStreaming) {
      try {
        return await WebAssembly.instantiateStreaming(fetch(wasmURL), go.importObject);
      } catch (e) {
        // A server that sends the wrong MIME type: fall back below.
      }
    }
    const resp = await fetch(wasmURL);
    if (!resp.ok) throw new Error('GET ' + wasmURL + ': HTTP ' + resp.status);
    return WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject);
  }

  async function start() {
    if (typeof Go !== 'function') {
      throw new Error('wasm_exec.js must be loaded before datacollect.js');
    }
    const go = new Go();
    const result = await instantiate(go);
    go.run(result.instance).then(function () {
      const e = new Error('the DataCollect runtime exited');
      e.code = 'ELOAD';
      api._rejectReady(e);
    });
  }

  start().catch(function (err) {
    const e = new Error('DataCollect failed to load: ' + (err && err.message ? err.message : err));
    e.code = 'ELOAD';
    api._rejectReady(e);
  });
})();
