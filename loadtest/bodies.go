package loadtest

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hotlinehq/hotline/hotline"
)

// Texts the load tool sends, as people text a crisis line: short and long, in
// English, Spanish and Portuguese, with emoji, some with the risk terms that raise a
// conversation to urgent. None is a keyword: keywords are drawn separately, and
// rarely (Options.KeywordShare), because they change what the hotline does.
var bodies = []string{
	"hi",
	"hello? is anyone there",
	"I need help",
	"can I talk to someone",
	"are you there?? please answer",
	"I'm scared to go home tonight",
	"my boss took my passport and says I owe him money",
	"he says if I leave he will hurt me",
	"I'm locked in the back room, I can only text",
	"I don't know who else to ask. I'm 17 and I'm not allowed to leave the apartment.",
	"sorry, my phone died. I'm ok for now but I can't talk long",
	"thank you 🙏",
	"😢😢😢",
	"ok 👍",
	"please help 🙏🙏 I'm not safe here",
	"can you call me? no wait don't call, text only",
	"hola, necesito ayuda",
	"me quitaron el pasaporte y no me dejan salir",
	"estoy encerrada en la casa, por favor ayúdenme",
	"¿hay alguien que hable español? tengo miedo 😔",
	"gracias, ya estoy más tranquila",
	"olá, preciso de ajuda",
	"pegaram meu passaporte e não me deixam sair",
	"estou com medo, ele disse que vai me machucar 😰",
	"obrigada, não posso falar agora, ele está chegando",
	"my friend is in trouble, she works at a nail salon and they keep her ID. what can she do?",
	"I want to leave but I have nowhere to go and I have two kids with me. Is there a shelter that takes kids? We can leave tomorrow morning when he goes to work.",
	"sometimes I think about suicide",
	"I think I'm going to overdose if this doesn't stop",
	"=HYPERLINK(\"http://example.com\",\"click\")",
	"line one\nline two\r\nline three",
	"Ünïcödé, 中文, العربية, हिन्दी — we get texts in every script",
}

// longBody is a long text (the longest Twilio delivers is 1,600 characters), built
// once from several languages and emoji.
var longBodies = []string{
	longText("I have been working at a farm for eight months. When I arrived they took my passport "+
		"and my phone and told me I owe them for the trip, the housing and the food. Every month the "+
		"debt gets bigger. We work from five in the morning until dark and they lock the gate at night. ", 1600),
	longText("Trabajo en una casa desde hace un año. La señora guarda mi pasaporte y no me paga desde "+
		"marzo. No me deja salir sola y me dice que la policía me va a deportar si hablo con alguien. 😔 ", 1200),
	longText("Eu vim para trabalhar num restaurante e agora não me deixam sair. Pegaram meu passaporte, "+
		"dizem que eu devo dinheiro da passagem. Tenho medo de falar com alguém. 🙏 ", 900),
	longText("🆘🙏😢 ", 400),
}

// longText repeats s up to exactly n characters.
func longText(s string, n int) string {
	var b strings.Builder
	for utf8.RuneCountInString(b.String()) < n {
		b.WriteString(s)
	}
	return string([]rune(b.String())[:n])
}

// keywords are the keyword texts, one word each: STOP opts the texter out (no more
// automatic texts until START), HELP and INFO get the help text, AYUDA and BEFREE are
// the default hotline keywords, START opts back in. STOP and START are each one in
// eight keywords, so at the default KeywordShare about one request in 1,600 is a STOP.
var keywords = []string{"HELP", "help", "Info", "AYUDA", "BEFREE", "befree", "STOP", "START"}

// mediaShare is the share of new messages that carry one image (one in fifty).
const mediaShare = 0.02

// message is what the tool remembers of a sent text to resend it, byte for byte, as a
// Twilio retry: the SID, the texter and the body.
type message struct {
	sid    string
	texter int32
	body   int32 // index into bodies, longBodies (offset len(bodies)) or keywords (negative, -1-i)
	media  bool
}

// newSID returns a MessageSid: "SM" and 32 hexadecimal digits.
func newSID(r *rand.Rand) string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return "SM" + hex.EncodeToString(b[:])
}

// texterNumber returns the number of texter i: E.164, distinct for every i below
// 8,000,000 (800 area codes of 10,000 numbers, all in the fictional 555 exchange).
func texterNumber(i int) string {
	return fmt.Sprintf("+1%03d555%04d", 200+(i/10000)%800, i%10000)
}

// newMessage draws a new text: a texter, a body (long one time in ten, a keyword at
// keywordShare) and sometimes an image.
func newMessage(r *rand.Rand, texters int, keywordShare float64) message {
	m := message{sid: newSID(r), texter: int32(r.IntN(texters))}
	switch p := r.Float64(); {
	case p < keywordShare:
		m.body = int32(-1 - r.IntN(len(keywords)))
	case p < keywordShare+0.1:
		m.body = int32(len(bodies) + r.IntN(len(longBodies)))
	default:
		m.body = int32(r.IntN(len(bodies)))
	}
	m.media = m.body >= 0 && r.Float64() < mediaShare
	return m
}

// text returns the body of m.
func (m message) text() string {
	switch {
	case m.body < 0:
		return keywords[-1-m.body]
	case int(m.body) < len(bodies):
		return bodies[m.body]
	}
	return longBodies[int(m.body)-len(bodies)]
}

// form returns the parameters Twilio posts for m: the same every time, as a retry
// is. To is the hotline's short code; the location fields are those Twilio guesses
// for a US number (the hotline drops them unless configured to keep them).
func (m message) form(accountSID string) url.Values {
	body := m.text()
	f := url.Values{
		"ApiVersion":    {"2010-04-01"},
		"AccountSid":    {accountSID},
		"MessageSid":    {m.sid},
		"SmsMessageSid": {m.sid},
		"SmsSid":        {m.sid},
		"SmsStatus":     {"received"},
		"From":          {texterNumber(int(m.texter))},
		"To":            {"233733"},
		"Body":          {body},
		"NumSegments":   {strconv.Itoa(hotline.Segments(body))},
		"NumMedia":      {"0"},
		"FromCity":      {"SAN FRANCISCO"},
		"FromState":     {"CA"},
		"FromZip":       {"94105"},
		"FromCountry":   {"US"},
		"ToCity":        {""},
		"ToState":       {""},
		"ToZip":         {""},
		"ToCountry":     {"US"},
	}
	if m.media {
		f.Set("NumMedia", "1")
		f.Set("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/"+accountSID+"/Messages/"+m.sid+"/Media/ME"+m.sid[2:])
		f.Set("MediaContentType0", "image/jpeg")
	}
	return f
}
