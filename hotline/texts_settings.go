package hotline

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// TextsReadTx reads the automatic texts coordinators edited in the console (store:
// the settings bucket).
type TextsReadTx interface {
	// StoredTexts returns the edited texts by language, and false when nobody has
	// edited any.
	StoredTexts() (map[string]Texts, bool, error)
}

// TextsTx writes the edited automatic texts.
type TextsTx interface {
	// PutStoredTexts replaces the edited texts.
	PutStoredTexts(t map[string]Texts) error
}

// AuditTextsUpdate records a change of the automatic texts.
const AuditTextsUpdate AuditAction = "texts_update"

// TargetSettings is the audit target of settings changes.
const TargetSettings = "settings"

const maxTextLanguages = 50

// TextSettings are the automatic texts (welcome, help, after-hours, closing, opt-in,
// opt-out) as coordinators edit them: a language edited in the console replaces that
// language of the configuration (texts.*), and the change takes effect at the next
// event, without a restart (Service.SetPolicy). It is safe for concurrent use.
type TextSettings struct {
	svc         *Service
	configured  map[string]Texts
	maxSegments int

	mu sync.Mutex
}

// NewTextSettings returns the text settings over svc; configured are the texts of
// the configuration, which edited languages override; maxSegments bounds each text.
func NewTextSettings(svc *Service, configured map[string]Texts, maxSegments int) *TextSettings {
	if maxSegments <= 0 {
		maxSegments = 10
	}
	return &TextSettings{svc: svc, configured: maps.Clone(configured), maxSegments: maxSegments}
}

// TextsView is what the console shows: the texts in force per language, the edited
// ones, and the configured ones they replace.
type TextsView struct {
	DefaultLanguage string
	Effective       map[string]Texts
	Edited          map[string]Texts
	Configured      map[string]Texts
}

// Load applies the edited texts in the store to the service: at start.
func (s *TextSettings) Load(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	edited, err := s.stored(ctx)
	if err != nil {
		return err
	}
	s.apply(edited)
	return nil
}

func (s *TextSettings) stored(ctx context.Context) (map[string]Texts, error) {
	var edited map[string]Texts
	err := s.svc.store.View(ctx, func(tx ReadTx) error {
		var err error
		edited, _, err = tx.StoredTexts()
		return err
	})
	return edited, err
}

// apply puts configured texts overridden by edited in force.
func (s *TextSettings) apply(edited map[string]Texts) {
	texts := s.effective(edited)
	s.svc.UpdatePolicy(func(p *Policy) { p.TextsByLanguage = texts })
}

func (s *TextSettings) effective(edited map[string]Texts) map[string]Texts {
	out := maps.Clone(s.configured)
	if out == nil {
		out = map[string]Texts{}
	}
	maps.Copy(out, edited)
	return out
}

// Get returns the texts. Only coordinators and the operator may.
func (s *TextSettings) Get(ctx context.Context, c Caller) (TextsView, error) {
	if err := c.requireCoordinator("see the automatic texts"); err != nil {
		return TextsView{}, err
	}
	edited, err := s.stored(ctx)
	if err != nil {
		return TextsView{}, err
	}
	if edited == nil {
		edited = map[string]Texts{}
	}
	return TextsView{DefaultLanguage: s.svc.Policy().DefaultLanguage, Effective: s.effective(edited), Edited: edited,
		Configured: maps.Clone(s.configured)}, nil
}

// Put replaces the edited texts (an empty map goes back to the configuration), puts
// them in force at once and audits which languages and fields changed.
//
// Errors: EFORBIDDEN; EINVALID naming the language and field.
func (s *TextSettings) Put(ctx context.Context, c Caller, edited map[string]Texts) (TextsView, error) {
	if err := c.requireCoordinator("change the automatic texts"); err != nil {
		return TextsView{}, err
	}
	if err := s.validate(edited); err != nil {
		return TextsView{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.svc.store.Update(ctx, func(tx Tx) error {
		old, _, err := tx.StoredTexts()
		if err != nil {
			return err
		}
		changed := changedTexts(s.effective(old), s.effective(edited))
		if len(changed) == 0 {
			return nil
		}
		if err := tx.PutStoredTexts(edited); err != nil {
			return err
		}
		e := c.entry(AuditTextsUpdate, TargetSettings, "texts")
		e.Detail = map[string]string{"changed": truncate(strings.Join(changed, ","), 500)}
		return appendAudit(tx, e, s.svc.clock.Now())
	})
	if err != nil {
		return TextsView{}, err
	}
	s.apply(edited)
	return s.Get(ctx, c)
}

// validate checks edited texts: language codes, valid UTF-8 of a length the hotline
// sends, and a default language that keeps the texts every other falls back on.
func (s *TextSettings) validate(edited map[string]Texts) error {
	if len(edited) > maxTextLanguages {
		return Errorf(EINVALID, "texts: at most %d languages.", maxTextLanguages)
	}
	for _, lang := range slices.Sorted(maps.Keys(edited)) {
		if !languagePattern.MatchString(lang) {
			return Errorf(EINVALID, "texts: %q is not a language code; write codes like en, es or pt-BR.", truncate(lang, 20))
		}
		t := edited[lang]
		for _, f := range textFields(&t) {
			switch {
			case !utf8.ValidString(*f.value):
				return Errorf(EINVALID, "texts.%s.%s: not valid UTF-8.", lang, f.name)
			case utf8.RuneCountInString(*f.value) > MaxBodyRunes:
				return Errorf(EINVALID, "texts.%s.%s: at most %d characters.", lang, f.name, MaxBodyRunes)
			case Segments(*f.value) > s.maxSegments:
				return Errorf(EINVALID, "texts.%s.%s: %d SMS segments, more than the %d the hotline sends (sms.max_segments).",
					lang, f.name, Segments(*f.value), s.maxSegments)
			}
		}
	}
	def := s.svc.Policy().DefaultLanguage
	if t, ok := edited[def]; ok {
		for _, f := range textFields(&t) {
			if strings.TrimSpace(*f.value) == "" && f.required {
				return Errorf(EINVALID, "texts.%s.%s: the default language's %s cannot be empty: the other languages fall back on it.", def, f.name, f.name)
			}
		}
	}
	return nil
}

type textField struct {
	name     string
	value    *string
	required bool // in the default language
}

func textFields(t *Texts) []textField {
	return []textField{{"welcome", &t.Welcome, true}, {"help", &t.Help, true}, {"opt_out", &t.OptOut, false},
		{"opt_in", &t.OptIn, true}, {"closing", &t.Closing, false}, {"after_hours", &t.AfterHours, true}}
}

// changedTexts names the language.field pairs that differ between a and b.
func changedTexts(a, b map[string]Texts) []string {
	var out []string
	langs := slices.Sorted(maps.Keys(a))
	for l := range b {
		if _, ok := a[l]; !ok {
			langs = append(langs, l)
		}
	}
	slices.Sort(langs)
	for _, l := range langs {
		ta, tb := a[l], b[l]
		fa, fb := textFields(&ta), textFields(&tb)
		for i := range fa {
			if *fa[i].value != *fb[i].value {
				out = append(out, l+"."+fa[i].name)
			}
		}
	}
	return out
}
