package store

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// benchSealedMessage is the sealed part of an inbound text as the webhook handler
// gives it: body, nonce and the webhook with Twilio's parameters.
func benchSealedMessage() *sealedMessage {
	sid := "SM0123456789abcdef0123456789abcdef"
	body := "he is back, I can't talk now, please text me later"
	return &sealedMessage{Body: body, Nonce: make([]byte, 16),
		Webhook: &webhookRecord{URL: "https://hotline.example.org/webhooks/twilio/sms", Signature: "0123456789abcdefghijABCDEFGHIJ/+=",
			Params: map[string][]string{"MessageSid": {sid}, "SmsSid": {sid}, "SmsMessageSid": {sid},
				"AccountSid": {"AC0123456789abcdef0123456789abcdef"}, "MessagingServiceSid": {"MG0123456789abcdef0123456789abcdef"},
				"From": {"+14155550100"}, "To": {"+14155550000"}, "Body": {body}, "NumMedia": {"0"}, "NumSegments": {"1"},
				"SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"}, "FromCountry": {"US"}, "ToCountry": {"US"}}}}
}

func benchConversationRecord() *conversationRecord {
	now := time.Now()
	r := conversationToRecord(hotline.Conversation{ID: hotline.NewID(now), ContactID: hotline.NewID(now), Handle: "T-4821",
		State: hotline.StateWaiting, Priority: hotline.PriorityNormal, Language: "en", CreatedAt: now, UpdatedAt: now,
		WaitingSince: now, LastInboundAt: now, InactiveAt: now.Add(24 * time.Hour)})
	return &r
}

// BenchmarkRecordJSON compares the hand-written record encoders with json.Marshal.
func BenchmarkRecordJSON(b *testing.B) {
	for _, c := range []struct {
		name string
		r    jsonAppender
	}{{"sealed-message", benchSealedMessage()}, {"conversation", benchConversationRecord()}} {
		b.Run(c.name+"/encoding-json", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(c.r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/hand-written", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				marshalRecord(c.r)
			}
		})
	}
}

// BenchmarkRecordJSONDecode is json.Unmarshal of the records an inbound text reads.
func BenchmarkRecordJSONDecode(b *testing.B) {
	conv := marshalRecord(benchConversationRecord())
	contact := marshalRecord(&contactRecord{V: 2, ID: hotline.NewID(time.Now()), Handle: "T-4821", Language: "en",
		FirstSeen: time.Now().UnixNano(), LastSeen: time.Now().UnixNano(), AutoReplyWindow: time.Now().UnixNano(), AutoReplies: 1,
		Sealed: make([]byte, 60)})
	b.Run("conversation", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r conversationRecord
			if err := json.Unmarshal(conv, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("contact", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r contactRecord
			if err := json.Unmarshal(contact, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
