package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestMetricsCountInboundTextsAndShowTheOutbox(t *testing.T) {
	base, _, _ := startServe(t, t.TempDir(), "HOTLINE_METRICS__PUBLIC=true")
	sid := "SM" + strings.Repeat("ab", 16)
	for range 2 { // the second is Twilio retrying
		if status, _ := postInbound(t, base, inboundParams(sid, "+14155550123", "hello")); status != http.StatusOK {
			t.Fatalf("inbound = %d", status)
		}
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`hotline_inbound_messages_total{result="stored"} 1`,
		`hotline_inbound_messages_total{result="duplicate"} 1`,
		`hotline_inbound_ack_seconds_count 2`, // both were acknowledged
		`hotline_outbox_depth `,
		`hotline_queue_length `,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(string(body), "+14155550123") || strings.Contains(string(body), "hello") {
		t.Errorf("/metrics shows a number or a body")
	}
}
