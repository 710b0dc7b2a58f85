package export

import (
	"regexp"
	"strings"
)

// Replacements MaskBody writes.
const (
	MaskedPhone = "[phone]"
	MaskedEmail = "[email]"
)

var (
	// emailPattern is an address as people type them: a local part, @, a domain
	// with a dot. It errs on the side of masking.
	emailPattern = regexp.MustCompile(`[\p{L}\p{N}._%+'-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}`)
	// phoneCandidate is a run that could be a phone number: an optional +, digits,
	// and the separators people put between them (spaces, dots, dashes, brackets).
	// Whether it is one is decided by maskPhone.
	phoneCandidate = regexp.MustCompile(`\+?\(?\d[\d\s().\-/]*\d`)
	// datePattern is an ISO date or a date with slashes, which are not numbers.
	datePattern = regexp.MustCompile(`^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$`)
)

// Phone numbers have 7 (a local number) to 15 (the E.164 maximum) digits.
const (
	minPhoneDigits = 7
	maxPhoneDigits = 15
)

// MaskBody hides the phone numbers and e-mail addresses in a message body: every
// e-mail address becomes "[email]", and every run of 7 to 15 digits written as a
// phone number (with an optional +, spaces, dots, dashes, slashes or brackets
// between them, but not a date) becomes "[phone]". Shorter numbers (a street
// number, an amount, a code) are kept.
func MaskBody(s string) string {
	s = emailPattern.ReplaceAllString(s, MaskedEmail)
	return phoneCandidate.ReplaceAllStringFunc(s, maskPhone)
}

func maskPhone(run string) string {
	// A run may end in separators the pattern swallowed inside it ("555 0100 and");
	// it always ends in a digit, so only inner ones count.
	digits := 0
	for _, r := range run {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	if digits < minPhoneDigits || datePattern.MatchString(strings.TrimSpace(run)) {
		return run
	}
	if digits > maxPhoneDigits {
		// Two numbers written one after the other, or a long reference: mask it
		// all rather than leave a number readable.
		return MaskedPhone
	}
	if strings.HasPrefix(run, "(") && !strings.Contains(run, ")") {
		return "(" + MaskedPhone
	}
	return MaskedPhone
}
