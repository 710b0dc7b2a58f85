package console

import (
	"fmt"
	"html"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/hotline"
)

type waitingView struct {
	ConversationID string    `json:"conversation_id"`
	Handle         string    `json:"handle"`
	Priority       string    `json:"priority"`
	Language       string    `json:"language"`
	WaitingSince   time.Time `json:"waiting_since"`
	WaitSeconds    int64     `json:"wait_seconds"`
}

type loadView struct {
	ID           string `json:"id"`
	DisplayName  string `json:"display_name"`
	Role         string `json:"role"`
	Availability string `json:"availability"`
	OnCall       *bool  `json:"on_call"` // null when schedules are not known
	Open         int    `json:"open"`
	Capacity     int    `json:"capacity"`
}

type hourView struct {
	Hour     time.Time `json:"hour"`
	Inbound  int       `json:"inbound"`
	Outbound int       `json:"outbound"`
}

type bucketView struct {
	Label string `json:"label"`
	Count int    `json:"count"`
}

// dashboard: GET /api/v1/dashboard (coordinators) → {"now","timezone","waiting":[…]
// (urgent first),"longest_wait_seconds","responders":[…],"on_call_known",
// "today":{"start","conversations"},"last_7_days":{"conversations",
// "first_reply_median_seconds","first_reply_p90_seconds","first_replies",
// "closed_without_reply","texts_per_hour":[…],"wait_distribution":[…]}}.
func (a *api) dashboard(c echo.Context) error {
	st, err := a.dashboardStats(c)
	if err != nil {
		return err
	}
	waiting := make([]waitingView, len(st.Waiting))
	for i, w := range st.Waiting {
		waiting[i] = waitingView{ConversationID: w.ConversationID.String(), Handle: w.Handle, Priority: string(w.Priority),
			Language: w.Language, WaitingSince: w.WaitingSince.UTC(), WaitSeconds: seconds(w.Wait)}
	}
	loads := make([]loadView, len(st.Responders))
	for i, r := range st.Responders {
		loads[i] = loadView{ID: r.ID.String(), DisplayName: r.DisplayName, Role: string(r.Role), Availability: string(r.Availability),
			OnCall: r.OnCall, Open: r.Open, Capacity: r.Capacity}
	}
	hours := make([]hourView, len(st.TextsPerHour))
	for i, h := range st.TextsPerHour {
		hours[i] = hourView{Hour: h.Hour.UTC(), Inbound: h.Inbound, Outbound: h.Outbound}
	}
	buckets := make([]bucketView, len(st.WaitDistribution))
	for i, b := range st.WaitDistribution {
		buckets[i] = bucketView{Label: b.Label, Count: b.Count}
	}
	return render(c, http.StatusOK, map[string]any{
		"now": st.Now.UTC(), "timezone": st.Location.String(), "waiting": waiting, "longest_wait_seconds": seconds(st.LongestWait),
		"responders": loads, "on_call_known": st.OnCallKnown,
		"today": map[string]any{"start": st.TodayStart.UTC(), "conversations": st.TodayConversations},
		"last_7_days": map[string]any{"conversations": st.WindowConversations, "first_replies": st.FirstReplyCount,
			"first_reply_median_seconds": seconds(st.FirstReplyMedian), "first_reply_p90_seconds": seconds(st.FirstReplyP90),
			"closed_without_reply": st.ClosedWithoutReply, "texts_per_hour": hours, "wait_distribution": buckets},
	})
}

func (a *api) dashboardStats(c echo.Context) (hotline.DashboardStats, error) {
	caller, err := a.caller(c)
	if err != nil {
		return hotline.DashboardStats{}, err
	}
	if a.Tools.Dashboard == nil {
		return hotline.DashboardStats{}, hotline.Errorf(hotline.EUNAVAILABLE, "The dashboard is not available on this server.")
	}
	return a.Tools.Dashboard.Stats(c.Request().Context(), caller)
}

// textsPerHourChart: GET /api/v1/dashboard/charts/texts-per-hour.svg (coordinators)
// → an SVG bar chart of the texts of each hour of the last 7 days, received and sent
// stacked, days marked in the hotline's time zone.
func (a *api) textsPerHourChart(c echo.Context) error {
	st, err := a.dashboardStats(c)
	if err != nil {
		return err
	}
	return renderSVG(c, TextsPerHourSVG(st.TextsPerHour, st.Location))
}

// waitTimesChart: GET /api/v1/dashboard/charts/wait-times.svg (coordinators) → an SVG
// bar chart of the waits for a first human reply over the last 7 days.
func (a *api) waitTimesChart(c echo.Context) error {
	st, err := a.dashboardStats(c)
	if err != nil {
		return err
	}
	return renderSVG(c, WaitTimesSVG(st.WaitDistribution))
}

func renderSVG(c echo.Context, svg string) error {
	c.Response().Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	return c.Blob(http.StatusOK, "image/svg+xml; charset=utf-8", []byte(svg))
}

// Chart geometry, in SVG user units.
const (
	chartW, chartH         = 840.0, 260.0
	chartLeft, chartRight  = 44.0, 12.0
	chartTop, chartBottom  = 28.0, 40.0
	colorIn, colorOut      = "#2f6fb0", "#9ec3e6"
	colorBar, colorNoReply = "#2f6fb0", "#c0504d"
)

// TextsPerHourSVG draws hours as stacked bars (received below, sent above) with a
// gridline per day at midnight in loc.
func TextsPerHourSVG(hours []hotline.HourCount, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	peak := 1
	for _, h := range hours {
		peak = max(peak, h.Inbound+h.Outbound)
	}
	top := niceCeil(peak)
	var b strings.Builder
	svgOpen(&b, "Texts per hour, last 7 days")
	plotW, plotH := chartW-chartLeft-chartRight, chartH-chartTop-chartBottom
	yAxis(&b, top, plotH)
	n := max(1, len(hours))
	bw := plotW / float64(n)
	for i, h := range hours {
		x := chartLeft + float64(i)*bw
		hin := plotH * float64(h.Inbound) / float64(top)
		hout := plotH * float64(h.Outbound) / float64(top)
		base := chartTop + plotH
		title := fmt.Sprintf("%s: %d received, %d sent", h.Hour.In(loc).Format("Mon 2 Jan 15:00"), h.Inbound, h.Outbound)
		fmt.Fprintf(&b, `<g><title>%s</title>`, html.EscapeString(title))
		if h.Inbound > 0 {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.2f" height="%.1f" fill="%s"/>`, x, base-hin, max(bw-0.6, 0.5), hin, colorIn)
		}
		if h.Outbound > 0 {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.2f" height="%.1f" fill="%s"/>`, x, base-hin-hout, max(bw-0.6, 0.5), hout, colorOut)
		}
		b.WriteString(`</g>`)
		if local := h.Hour.In(loc); local.Hour() == 0 {
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#999" stroke-dasharray="2,2"/>`, x, chartTop, x, base)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11">%s</text>`, x+3, base+16, local.Format("Mon 2 Jan"))
		}
	}
	fmt.Fprintf(&b, `<rect x="%.0f" y="8" width="10" height="10" fill="%s"/><text x="%.0f" y="17" font-size="11">received</text>`, chartW-200, colorIn, chartW-186)
	fmt.Fprintf(&b, `<rect x="%.0f" y="8" width="10" height="10" fill="%s"/><text x="%.0f" y="17" font-size="11">sent</text>`, chartW-110, colorOut, chartW-96)
	b.WriteString(`</svg>`)
	return b.String()
}

// WaitTimesSVG draws the distribution of waits for a first human reply; the last
// bucket (never answered) is red.
func WaitTimesSVG(buckets []hotline.WaitBucket) string {
	peak := 1
	for _, bk := range buckets {
		peak = max(peak, bk.Count)
	}
	top := niceCeil(peak)
	var b strings.Builder
	svgOpen(&b, "Wait for a first reply, last 7 days")
	plotW, plotH := chartW-chartLeft-chartRight, chartH-chartTop-chartBottom
	yAxis(&b, top, plotH)
	n := max(1, len(buckets))
	slot := plotW / float64(n)
	for i, bk := range buckets {
		h := plotH * float64(bk.Count) / float64(top)
		x := chartLeft + float64(i)*slot + slot*0.15
		color := colorBar
		if i == len(buckets)-1 {
			color = colorNoReply
		}
		fmt.Fprintf(&b, `<g><title>%s: %d</title><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/></g>`,
			html.EscapeString(bk.Label), bk.Count, x, chartTop+plotH-h, slot*0.7, h, color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle">%s</text>`, x+slot*0.35, chartTop+plotH+16, html.EscapeString(bk.Label))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle">%d</text>`, x+slot*0.35, chartTop+plotH-h-4, bk.Count)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func svgOpen(b *strings.Builder, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s" font-family="system-ui, sans-serif">`,
		chartW, chartH, chartW, chartH, html.EscapeString(title))
	fmt.Fprintf(b, `<title>%s</title><rect width="100%%" height="100%%" fill="#fff"/>`, html.EscapeString(title))
	fmt.Fprintf(b, `<text x="%.0f" y="17" font-size="13" font-weight="bold">%s</text>`, chartLeft, html.EscapeString(title))
}

// yAxis draws four gridlines labelled from 0 to top.
func yAxis(b *strings.Builder, top int, plotH float64) {
	for i := 0; i <= 4; i++ {
		v := top * i / 4
		y := chartTop + plotH - plotH*float64(i)/4
		fmt.Fprintf(b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#e3e3e3"/>`, chartLeft, y, chartW-chartRight, y)
		fmt.Fprintf(b, `<text x="%.0f" y="%.1f" font-size="11" text-anchor="end">%d</text>`, chartLeft-6, y+4, v)
	}
}

// niceCeil rounds n up to a round number for an axis: 4, 8, 20, 40, 100…
func niceCeil(n int) int {
	for _, step := range []int{4, 8, 20, 40, 100, 200, 400, 1000, 2000, 4000, 10000, 20000, 40000, 100000} {
		if n <= step {
			return step
		}
	}
	return n
}
