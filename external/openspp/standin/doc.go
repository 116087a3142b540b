// Package standin is a stand-in OpenSPP 17 server for tests and demos: an
// in-memory Odoo 17 speaking the subset of JSON-RPC the DataCollect OpenSPP
// adapter uses, faithfully enough that the adapter cannot tell the
// difference on the paths it exercises (see ../shared/OPENSPP.md).
//
// # Protocol
//
// The server answers POST /jsonrpc with the Odoo envelope
// {"jsonrpc":"2.0","method":"call","id":N,"params":{"service","method","args"}},
// always with HTTP 200 and either "result" or an Odoo error object
// {"code":200,"message":"Odoo Server Error","data":{"name","message","arguments","debug","context"}}.
// Another path answers HTTP 404 with a code 404 error object.
//
//   - common.authenticate [db, login, password, {}] → uid, or false for bad
//     credentials; common.version → the version dict; a wrong db name
//     fails with psycopg2.OperationalError.
//   - object.execute_kw [db, uid, password, model, method, args, kwargs];
//     a bad uid/password fails with odoo.exceptions.AccessDenied.
//   - ORM methods: search_read, search, search_count, read, create (a dict
//     → id, a list of dicts → ids), write (→ true), unlink, fields_get,
//     check_access_rights. Positional and keyword arguments are accepted
//     as in Odoo (fields, offset, limit, order).
//   - Domains in prefix notation with '|', '&', '!' and the implicit '&';
//     operators =, !=, <>, >, >=, <, <=, in, not in, like, ilike, not like,
//     not ilike, =like, =ilike; false means NULL (negative operators match
//     NULL, as in Odoo); dotted paths through relations ("kind.name",
//     "reg_ids.value") match when any related record matches; a string
//     compared with a relational field compares display names.
//   - Orders like "write_date asc, id asc" (NULLs last ascending, first
//     descending); ties are broken by id so results are deterministic.
//     res.partner's default order is "name asc, id desc", the others' "id".
//   - Values read: unset → false; many2one → [id, "display name"]; x2many →
//     ids. Writes accept x2many commands [0,0,vals], [1,id,vals], [2,id],
//     [3,id], [4,id], [5], [6,0,ids], or a bare list of ids.
//   - Each call is one transaction: on any error nothing it did remains.
//
// # Models
//
// res.partner (registrants; the char fields named in Options.CustomFields,
// x_datacollect_guid by default), g2p.group.kind, g2p.group.membership
// (one individual once per group; a unique kind such as "Head" once per
// group), g2p.group.membership.kind, g2p.reg.id (one per id type per
// partner; the type's id_validation regex is enforced), g2p.id.type,
// gender.type (res.partner.gender must be one of their values) and
// res.users. Ids increase per model from non-trivial starting points
// (Options.Seed creates Household as g2p.group.kind 3), so callers must
// look reference data up by name. create_date and write_date are naive UTC
// with second precision from an injectable clock (Options.Now, Freeze,
// Advance): many records share one write_date, as on a real server.
// Writing a record through another's one2many (a membership through its
// group) stamps both; writing the membership directly stamps only it.
//
// # Faults
//
// Tests configure failures at run time, safely from any goroutine:
// AddFault (match by model/method; an Odoo error, a dropped connection, a
// call run and then dropped before its answer, a delay; for the next N
// calls or a seeded fraction of them), with shortcuts FailNext, FailRate,
// DropNext, DropAfterNext, SetLatency and ClearFaults. Calls lists what the
// server received.
//
// # Use
//
//	srv := standin.Start(t, standin.Options{Seed: true})  // httptest server, closed by t.Cleanup
//	url := srv.URL() + "/jsonrpc"                         // db srv.DB(), login srv.Login(), srv.Password()
//	srv.Freeze(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
//	srv.DropAfterNext(1, standin.Partner, "create")
//
// The command cmd/openspp-standin serves the same thing for demos.
package standin
