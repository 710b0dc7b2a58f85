package main

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/rs/zerolog"

	"github.com/hotlinehq/hotline/httpx"
	"github.com/hotlinehq/hotline/metrics"
)

// contentSecurityPolicy allows only the server's own scripts, styles and connections:
// no inline script, no framing, no third-party origin.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// apiBodyLimit bounds request bodies outside the webhooks, which have their own limit.
const apiBodyLimit = "1M"

// newEcho returns the server with the middleware every route shares: panic recovery,
// request IDs, access logs without bodies or query strings, metrics and security headers.
func newEcho(log zerolog.Logger, m *metrics.Metrics) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = httpx.ErrorHandler(log)
	e.Server.ReadHeaderTimeout = 10 * time.Second
	e.Server.ReadTimeout = 30 * time.Second
	e.Server.IdleTimeout = 2 * time.Minute
	httpLog := log.With().Str("component", "http").Logger()
	e.Use(
		middleware.RecoverWithConfig(middleware.RecoverConfig{LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			httpLog.Error().Err(err).Bytes("stack", stack).Str("route", c.Path()).Msg("panic in a handler")
			return err
		}}),
		middleware.RequestID(),
		middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
			LogStatus: true, LogLatency: true, LogMethod: true, LogRoutePath: true, LogRequestID: true, LogError: true,
			HandleError: true,
			LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
				m.ObserveHTTP(v.RoutePath, v.Status)
				ev := httpLog.Debug()
				if v.Status >= 500 {
					ev = httpLog.Warn()
				}
				ev.Str("method", v.Method).Str("route", v.RoutePath).Int("status", v.Status).
					Dur("latency", v.Latency).Str("request_id", v.RequestID).Msg("request")
				return nil
			},
		}),
		middleware.SecureWithConfig(middleware.SecureConfig{
			ContentTypeNosniff: "nosniff", XFrameOptions: "DENY", ReferrerPolicy: "no-referrer",
			ContentSecurityPolicy: contentSecurityPolicy,
		}),
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
			Limit:   apiBodyLimit,
			Skipper: func(c echo.Context) bool { return len(c.Path()) > 10 && c.Path()[:10] == "/webhooks/" },
		}),
	)
	return e
}

// routes mounts the operator's endpoints: liveness, readiness and metrics.
func (a *app) routes() {
	a.echo.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	a.echo.GET("/readyz", a.readyz)
	a.echo.GET("/metrics", echo.WrapHandler(a.metrics.Handler()))
}

// readyz answers 200 when the store answers and every worker runs, else 503 with
// what is wrong, so a load balancer stops sending texts to a hotline that cannot
// store them.
func (a *app) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	problems := map[string]string{}
	if _, err := a.store.Stats(ctx); err != nil {
		problems["store"] = err.Error()
	}
	names := make([]string, len(a.workers))
	for i, w := range a.workers {
		names[i] = w.name
	}
	for _, n := range a.ready.stopped(names) {
		problems[n] = "not running"
	}
	if len(problems) > 0 {
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "problems": problems})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
