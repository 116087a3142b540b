package standin

import (
	"fmt"
	"sort"
)

// kind is the Odoo field type of a field.
type kind int

const (
	kChar kind = iota
	kText
	kBool
	kInt
	kDate
	kDatetime
	kSelection
	kMany2one
	kOne2many
	kMany2many
)

var kindNames = map[kind]string{
	kChar: "char", kText: "text", kBool: "boolean", kInt: "integer", kDate: "date", kDatetime: "datetime",
	kSelection: "selection", kMany2one: "many2one", kOne2many: "one2many", kMany2many: "many2many",
}

// field describes one field of a model.
type field struct {
	name     string
	label    string
	kind     kind
	comodel  string // relational fields
	inverse  string // one2many: the many2one on comodel pointing back
	required bool
	readonly bool // magic and computed fields: writes are ignored
	computed bool // not stored (id, display_name, one2many)
	regex    bool // char holding a validation regular expression
}

func (f *field) relational() bool {
	return f.kind == kMany2one || f.kind == kOne2many || f.kind == kMany2many
}
func (f *field) x2many() bool { return f.kind == kOne2many || f.kind == kMany2many }

// model describes one Odoo model.
type model struct {
	name         string
	description  string
	fields       map[string]*field
	recName      string // field giving display_name
	defaultOrder string
	firstID      int // first id handed out, so seeded ids are not 1, 2, 3
}

// fieldNames returns the model's field names, sorted.
func (m *model) fieldNames() []string {
	names := make([]string, 0, len(m.fields))
	for n := range m.fields {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func newModel(name, description, recName, order string, firstID int, fields ...*field) *model {
	m := &model{name: name, description: description, recName: recName, defaultOrder: order, firstID: firstID,
		fields: map[string]*field{}}
	base := []*field{
		{name: "id", label: "ID", kind: kInt, readonly: true, computed: true},
		{name: "display_name", label: "Display Name", kind: kChar, readonly: true, computed: true},
		{name: "create_date", label: "Created on", kind: kDatetime, readonly: true},
		{name: "write_date", label: "Last Updated on", kind: kDatetime, readonly: true},
		{name: "create_uid", label: "Created by", kind: kMany2one, comodel: "res.users", readonly: true},
		{name: "write_uid", label: "Last Updated by", kind: kMany2one, comodel: "res.users", readonly: true},
	}
	for _, f := range append(base, fields...) {
		if f.label == "" {
			f.label = f.name
		}
		if f.kind == kOne2many {
			f.computed = true
		}
		m.fields[f.name] = f
	}
	return m
}

// Model names served by the stand-in.
const (
	Partner            = "res.partner"
	GroupKind          = "g2p.group.kind"
	Membership         = "g2p.group.membership"
	MembershipKind     = "g2p.group.membership.kind"
	RegID              = "g2p.reg.id"
	IDType             = "g2p.id.type"
	GenderType         = "gender.type"
	users              = "res.users"
	DefaultCustomField = "x_datacollect_guid"
)

// newSchema builds the OpenSPP 17 registry subset; custom names extra char
// fields of res.partner.
func newSchema(custom []string) (map[string]*model, error) {
	partner := newModel(Partner, "Contact", "name", "name asc, id desc", 7,
		&field{name: "name", label: "Name", kind: kChar},
		&field{name: "is_registrant", label: "Registrant", kind: kBool},
		&field{name: "is_group", label: "Group", kind: kBool},
		&field{name: "given_name", label: "Given Name", kind: kChar},
		&field{name: "family_name", label: "Family Name", kind: kChar},
		&field{name: "addl_name", label: "Additional Name", kind: kChar},
		&field{name: "birthdate", label: "Date of Birth", kind: kDate},
		&field{name: "birth_place", label: "Birth Place", kind: kChar},
		&field{name: "gender", label: "Gender", kind: kSelection, comodel: GenderType},
		&field{name: "phone", label: "Phone", kind: kChar},
		&field{name: "email", label: "Email", kind: kChar},
		&field{name: "address", label: "Address", kind: kText},
		&field{name: "registration_date", label: "Registration Date", kind: kDate},
		&field{name: "disabled", label: "Date Disabled", kind: kDatetime},
		&field{name: "kind", label: "Kind", kind: kMany2one, comodel: GroupKind},
		&field{name: "group_membership_ids", label: "Group Members", kind: kOne2many, comodel: Membership, inverse: "group"},
		&field{name: "individual_membership_ids", label: "Membership to Groups", kind: kOne2many, comodel: Membership, inverse: "individual"},
		&field{name: "reg_ids", label: "Registrant IDs", kind: kOne2many, comodel: RegID, inverse: "partner_id"},
	)
	for _, c := range custom {
		if _, ok := partner.fields[c]; ok || c == "" {
			return nil, fmt.Errorf("custom field %q: empty or clashes with a built-in field", c)
		}
		partner.fields[c] = &field{name: c, label: c, kind: kChar}
	}
	models := []*model{
		partner,
		newModel(GroupKind, "Group Type", "name", "id asc", 3,
			&field{name: "name", label: "Kind", kind: kChar, required: true}),
		newModel(Membership, "Group Membership", "individual", "id asc", 1,
			&field{name: "group", label: "Group", kind: kMany2one, comodel: Partner, required: true},
			&field{name: "individual", label: "Individual", kind: kMany2one, comodel: Partner, required: true},
			&field{name: "kind", label: "Kind", kind: kMany2many, comodel: MembershipKind},
			&field{name: "start_date", label: "Start Date", kind: kDatetime},
			&field{name: "ended_date", label: "Ended Date", kind: kDatetime},
			&field{name: "status", label: "Status", kind: kChar},
			&field{name: "is_ended", label: "Is Ended", kind: kBool}),
		newModel(MembershipKind, "Group Membership Kind", "name", "id asc", 1,
			&field{name: "name", label: "Kind", kind: kChar, required: true},
			&field{name: "is_unique", label: "Unique", kind: kBool}),
		newModel(RegID, "Registrant ID", "value", "id asc", 1,
			&field{name: "partner_id", label: "Registrant", kind: kMany2one, comodel: Partner, required: true},
			&field{name: "id_type", label: "ID Type", kind: kMany2one, comodel: IDType, required: true},
			&field{name: "value", label: "Value", kind: kChar},
			&field{name: "expiry_date", label: "Expiry Date", kind: kDate},
			&field{name: "status", label: "Status", kind: kChar}),
		newModel(IDType, "ID Type", "name", "id asc", 2,
			&field{name: "name", label: "ID Type", kind: kChar, required: true},
			&field{name: "id_validation", label: "ID Validation", kind: kChar, regex: true}),
		newModel(GenderType, "Gender Type", "value", "id asc", 1,
			&field{name: "code", label: "Code", kind: kChar},
			&field{name: "value", label: "Value", kind: kChar, required: true}),
		newModel(users, "User", "name", "id asc", 2,
			&field{name: "name", label: "Name", kind: kChar},
			&field{name: "login", label: "Login", kind: kChar}),
	}
	out := map[string]*model{}
	for _, m := range models {
		out[m.name] = m
	}
	return out, nil
}
