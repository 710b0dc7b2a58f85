package webhooks_test

import (
	"fmt"
	"net/url"

	"github.com/hotlinehq/hotline/webhooks"
)

// Sign computes the X-Twilio-Signature of Twilio's published example; a load tool
// or a test signs its requests the same way.
func ExampleSign() {
	params := url.Values{
		"CallSid":               {"CA1234567890ABCDE"},
		"Caller":                {"+14158675309"},
		"Digits":                {"1234"},
		"From":                  {"+14158675309"},
		"To":                    {"+18005551212"},
		"ReasonConferenceEnded": {"test"},
		"Reason":                {"Participant"},
	}
	sig := webhooks.Sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params)
	fmt.Println(sig)
	fmt.Println(webhooks.ValidSignature([]string{"12345"}, "https://mycompany.com:443/myapp.php?foo=1&bar=2", params, sig))
	// Output:
	// vOEb5UThFn24KEfnOFLQY2AE5FY=
	// true
}
