// The demo app: records individuals and households through window.datacollect.
(function () {
  'use strict';
  const $ = (sel) => document.querySelector(sel);
  const status = (msg) => { $('#status').textContent = msg; };

  async function render(dc) {
    const list = $('#entities');
    const entities = await dc.listEntities();
    const byGuid = new Map(entities.map((e) => [e.guid, e]));
    list.replaceChildren(...entities
      .filter((e) => e.type === 'group' || !entities.some((g) => g.type === 'group' && g.memberIds.includes(e.guid)))
      .map((e) => {
        const li = document.createElement('li');
        li.dataset.guid = e.guid;
        const name = e.data.name || [e.data.givenName, e.data.familyName].filter(Boolean).join(' ') || e.guid;
        li.textContent = (e.type === 'group' ? 'Household: ' : 'Person: ') + name;
        if (e.type === 'group') {
          const members = e.memberIds.map((id) => byGuid.get(id)).filter(Boolean)
            .map((m) => m.data.name || m.data.givenName || m.guid);
          const small = document.createElement('div');
          small.className = 'muted';
          small.textContent = members.length ? 'Members: ' + members.join(', ') : 'No members';
          li.append(small);
        }
        return li;
      }));
  }

  async function main() {
    const dc = await window.datacollect.ready;
    await dc.init({ appId: 'demo' });
    status('Ready — working offline');
    dc.addEventListener('change', () => render(dc));
    await render(dc);

    const showSession = async () => {
      const s = await dc.session();
      $('#session').textContent = s ? 'Logged in as ' + s.email + ' until ' + new Date(s.expiresAt).toLocaleString() : 'Not logged in';
    };
    await showSession();
    $('#login-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = new FormData(ev.target);
      try {
        await dc.login(String(f.get('email')), String(f.get('password')));
        ev.target.reset();
        await showSession();
      } catch (err) { status('Login failed: ' + err.code + ': ' + err.message); }
    });
    $('#sync-button').addEventListener('click', async () => {
      $('#sync-result').textContent = 'Syncing…';
      try {
        const r = await dc.sync();
        $('#sync-result').textContent = `Pushed ${r.pushed}, pulled ${r.pulled}, failed ${r.failed} in ${r.durationMs} ms`;
      } catch (err) { $('#sync-result').textContent = 'Sync failed: ' + err.code + ': ' + err.message; }
    });
    const showStatus = (st) => {
      const parts = [st.online ? 'Online' : 'Offline',
        st.lastSyncTime ? 'last sync ' + new Date(st.lastSyncTime).toLocaleTimeString() : 'never synced',
        st.pendingEvents + ' pending', st.failedEvents + ' failed'];
      if (st.syncInProgress) parts.push('syncing…');
      if (st.nextRetry) parts.push('retry at ' + new Date(st.nextRetry).toLocaleTimeString());
      if (st.authRequired) parts.push('log in to sync');
      if (st.lastError) parts.push('last error ' + st.lastError.code);
      $('#sync-status').textContent = parts.join(' · ');
    };
    dc.addEventListener('status', (e) => showStatus(e.detail));
    dc.addEventListener('auth', () => { $('#session').textContent = 'Session expired: log in again to sync'; });
    showStatus(await dc.status());
    dc.addEventListener('progress', (e) => { $('#sync-result').textContent = `${e.detail.phase}: ${e.detail.done}/${e.detail.total}`; });

    $('#individual-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = new FormData(ev.target);
      const data = Object.fromEntries([...f].filter(([, v]) => v !== ''));
      try {
        await dc.submitForm({ type: 'create-individual', data });
        ev.target.reset();
        status('Saved');
      } catch (err) { status('Error ' + err.code + ': ' + err.message); }
    });
    $('#household-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = new FormData(ev.target);
      const members = String(f.get('members') || '').split('\n').map((s) => s.trim()).filter(Boolean)
        .map((name) => ({ type: 'individual', name }));
      try {
        await dc.submitForm({ type: 'create-group', data: { name: f.get('name'), members } });
        ev.target.reset();
        status('Saved');
      } catch (err) { status('Error ' + err.code + ': ' + err.message); }
    });
  }

  main().catch((err) => status('Failed: ' + (err.code ? err.code + ': ' : '') + err.message));
})();
