package hotline

import "time"

// Texts are the automatic texts the hotline sends, in one language.
type Texts struct {
	Welcome    string // the first reply to a new conversation: emergency number and STOP notice
	Help       string // the answer to HELP / INFO
	OptOut     string // the one confirmation after STOP; empty sends nothing
	OptIn      string // the confirmation after START
	Closing    string // sent when a conversation closes for inactivity; empty sends nothing
	AfterHours string // sent when nobody is on call
}

// Policy is the configurable behaviour of the state machine. It is a value: the
// service reads the current one for every event, so changes apply without a restart.
type Policy struct {
	DefaultLanguage string
	// TextsByLanguage holds the automatic texts per language; missing languages and
	// empty fields fall back to DefaultLanguage.
	TextsByLanguage map[string]Texts
	Keywords        []HotlineKeyword
	// RiskTerms per language raise a conversation to urgent when a texter uses one.
	// Terms of every language are checked, since texters mix languages.
	RiskTerms map[string][]string
	// InactivityTimeout closes a conversation with no texter message for this long.
	InactivityTimeout time.Duration
	// ReopenWindow reopens a conversation closed less than this long ago when the
	// texter writes again, instead of starting a new one. Zero always starts anew.
	ReopenWindow time.Duration
	// AutoReplyCap limits automatic texts to one contact per hour.
	AutoReplyCap int
	// Routing is how waiting conversations reach responders (routing_policy.go).
	Routing RoutingPolicy
	// CloseLists are the dispositions and tags of the close dialog; closing with a
	// disposition outside a non-empty list is refused (close_lists.go).
	CloseLists CloseLists
}

// DefaultPolicy returns the policy used when configuration sets nothing.
func DefaultPolicy() Policy {
	return Policy{
		DefaultLanguage: "en",
		TextsByLanguage: map[string]Texts{
			"en": {
				Welcome:    "You have reached the hotline. A person will answer you soon. If you are in immediate danger, call 911. Text STOP to stop receiving messages.",
				Help:       "This is the hotline: text us anytime and a trained person will answer. If you are in immediate danger, call 911. Text STOP to opt out.",
				OptOut:     "You will not receive more messages from the hotline. Text START to resume.",
				OptIn:      "You can text the hotline again. A person will answer you soon. If you are in immediate danger, call 911.",
				Closing:    "This conversation has ended. Text us again anytime. If you are in immediate danger, call 911.",
				AfterHours: "Nobody is on shift right now; we will answer as soon as someone is. If you are in immediate danger, call 911.",
			},
			"es": {
				Welcome:    "Ha contactado la línea de ayuda. Una persona le responderá pronto. Si está en peligro inmediato, llame al 911. Envíe STOP para no recibir más mensajes.",
				Help:       "Esta es la línea de ayuda: escríbanos cuando quiera y una persona capacitada le responderá. En peligro inmediato, llame al 911. Envíe STOP para darse de baja.",
				OptOut:     "No recibirá más mensajes de la línea de ayuda. Envíe START para reanudar.",
				OptIn:      "Puede volver a escribir a la línea de ayuda. Una persona le responderá pronto. En peligro inmediato, llame al 911.",
				Closing:    "Esta conversación ha terminado. Escríbanos de nuevo cuando quiera. En peligro inmediato, llame al 911.",
				AfterHours: "No hay nadie de turno ahora; le responderemos en cuanto haya alguien. En peligro inmediato, llame al 911.",
			},
		},
		Keywords: []HotlineKeyword{{Word: "BEFREE"}, {Word: "AYUDA", Language: "es"}},
		RiskTerms: map[string][]string{
			"en": {"suicide", "kill myself", "gun", "locked in", "took my passport", "hurt me", "overdose"},
			"es": {"suicidio", "matarme", "pistola", "encerrada", "encerrado", "me quitaron el pasaporte"},
			"pt": {"suicídio", "me matar", "arma", "trancada", "trancado", "pegaram meu passaporte"},
		},
		InactivityTimeout: 24 * time.Hour,
		ReopenWindow:      time.Hour,
		AutoReplyCap:      5,
		Routing:           DefaultRoutingPolicy(),
	}
}

// TextsFor returns the texts in language lang, each empty field filled from the
// default language.
func (p Policy) TextsFor(lang string) Texts {
	def := p.TextsByLanguage[p.DefaultLanguage]
	t, ok := p.TextsByLanguage[lang]
	if !ok {
		return def
	}
	fill := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	fill(&t.Welcome, def.Welcome)
	fill(&t.Help, def.Help)
	fill(&t.OptIn, def.OptIn)
	fill(&t.AfterHours, def.AfterHours)
	// OptOut and Closing may be empty on purpose (send nothing), so they only fall
	// back when the language has no texts of its own at all.
	return t
}
