// The in-page half of the chaos harness (e2e/chaos.mjs): installed with
// addInitScript, so it is there again after a reload. It keeps what the
// device knows of the entities (from `change` events) and records a
// deterministic mix of forms.

// installChaosPage runs in the page (serialised by Playwright): no closures.
export function installChaosPage() {
  const st = {
    known: new Map(), // guid -> {type, deleted}
    order: [],        // known guids, in the order first seen
    own: [],          // [{guid, type}] created here
    ownDeleted: new Set(),
    rng: null,
    n: 0,
    auth: 0,
    alerts: [],
    syncErrors: {},
  };
  window.chaos = st;

  function mulberry32(a) {
    return () => {
      a |= 0; a = (a + 0x6D2B79F5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  // chaosInit opens the app's database and logs in unless a session is kept.
  window.chaosInit = async ({ dbName, seed, own, opts, login }) => {
    const dc = await window.datacollect.ready;
    st.rng = mulberry32(seed);
    for (const o of own || []) st.own.push(o);
    dc.addEventListener('change', (e) => {
      for (const ent of e.detail.entities || []) know(ent);
    });
    dc.addEventListener('auth', () => { st.auth++; });
    dc.addEventListener('alert', (e) => { st.alerts.push(e.detail.type); });
    dc.addEventListener('sync', (e) => {
      const c = e.detail.error && e.detail.error.code;
      if (c) st.syncErrors[c] = (st.syncErrors[c] || 0) + 1;
    });
    await dc.init({ appId: 'demo', dbName, ...opts });
    for (const ent of await dc.listEntities({ includeDeleted: true })) know(ent);
    const s = await dc.session();
    return { hadSession: !!s };
  };

  function know(ent) {
    if (!st.known.has(ent.guid)) st.order.push(ent.guid);
    st.known.set(ent.guid, { type: ent.type, deleted: !!ent.deleted });
  }

  const pick = (arr) => arr[Math.floor(st.rng() * arr.length)];

  function form() {
    const r = st.rng();
    const tag = `${st.n}`;
    const live = (o) => !st.ownDeleted.has(o.guid) && !(st.known.get(o.guid) || {}).deleted;
    if (r < 0.25) return { type: 'create-individual', data: { name: 'P' + tag, age: Math.floor(st.rng() * 90) } };
    if (r < 0.40) {
      const members = [];
      const k = 1 + Math.floor(st.rng() * 3);
      for (let i = 0; i < k; i++) members.push({ name: `M${tag}.${i}`, role: i ? 'member' : 'head' });
      return { type: 'create-group', data: { name: 'H' + tag, village: 'V' + Math.floor(st.rng() * 9), members } };
    }
    if (r < 0.88) {
      let target = null;
      if (r >= 0.65) {
        // Any entity it knows, created elsewhere: a few random draws, the
        // recent ones (more likely edited concurrently) twice as likely.
        const ownSet = new Set(st.own.map((o) => o.guid));
        for (let tries = 0; tries < 8 && !target && st.order.length; tries++) {
          const recent = st.rng() < 0.5;
          const lo = recent ? Math.max(0, st.order.length - 300) : 0;
          const guid = st.order[lo + Math.floor(st.rng() * (st.order.length - lo))];
          const v = st.known.get(guid);
          if (!v.deleted && !ownSet.has(guid)) target = { guid, type: v.type };
        }
      }
      if (!target) {
        const mine = st.own.slice(-200).filter(live);
        if (mine.length) target = pick(mine);
      }
      if (!target) return { type: 'create-individual', data: { name: 'P' + tag } };
      const own = st.own.some((o) => o.guid === target.guid);
      const data = { score: Math.floor(st.rng() * 1000), note: 'n' + tag };
      if (st.rng() < 0.2) data.age = null;
      return { type: target.type === 'group' ? 'update-group' : 'update-individual', entityGuid: target.guid, data, mix: own ? 'update-own' : 'update-other' };
    }
    if (r < 0.93) {
      const groups = st.own.filter((o) => o.type === 'group').slice(-100).filter(live);
      if (groups.length) return { type: 'add-member', entityGuid: pick(groups).guid, data: { members: [{ name: 'B' + tag }] } };
    }
    if (r < 0.96) {
      const inds = st.own.filter((o) => o.type === 'individual').slice(-100).filter(live);
      if (inds.length) {
        const t = pick(inds);
        st.ownDeleted.add(t.guid);
        return { type: 'delete-entity', entityGuid: t.guid, data: { reason: 'chaos ' + tag } };
      }
    }
    return { type: 'create-individual', data: { name: 'P' + tag, village: 'W' } };
  }

  // chaosStep records n events (one submitForms of 3 forms now and then)
  // and answers their guids, the entities created, the forms by kind, and
  // the forms the device refused (nothing written for them).
  window.chaosStep = async (n) => {
    const dc = window.datacollect;
    const guids = [];
    const created = [];
    const refused = [];
    const mix = {}; // recorded forms by kind (updates of own and others' entities apart)
    while (guids.length < n) {
      st.n++;
      const batch = st.rng() < 0.05 && n - guids.length >= 3;
      const forms = batch ? [form(), form(), form()] : [form()];
      const kinds = forms.map((f) => f.mix || f.type);
      for (const f of forms) delete f.mix;
      try {
        const evs = batch ? await dc.submitForms(forms) : [await dc.submitForm(forms[0])];
        for (const k of kinds) mix[k] = (mix[k] || 0) + 1;
        if (batch) mix.submitForms = (mix.submitForms || 0) + 1;
        for (const ev of evs) {
          guids.push(ev.guid);
          if (ev.type === 'create-individual' || ev.type === 'create-group') {
            const o = { guid: ev.entityGuid, type: ev.type === 'create-group' ? 'group' : 'individual' };
            st.own.push(o);
            created.push(o);
            if (o.type === 'group') {
              // Its members were created here too.
              const g = await dc.getEntity(o.guid);
              for (const m of (g && g.memberIds) || []) {
                const mo = { guid: m, type: (st.known.get(m) || {}).type || 'individual' };
                st.own.push(mo);
                created.push(mo);
              }
            }
          }
        }
      } catch (e) {
        refused.push(`${forms.map((f) => f.type + (f.entityGuid ? ' ' + f.entityGuid : '')).join('+')}: ${e.code} ${e.message}`);
      }
    }
    return { guids, created, refused, mix };
  };
}
