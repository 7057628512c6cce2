package app

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/email"
	"github.com/wabarouter/wabarouter/internal/sinks/logsink"
	"github.com/wabarouter/wabarouter/internal/sinks/pagerduty"
	"github.com/wabarouter/wabarouter/internal/sinks/slack"
	"github.com/wabarouter/wabarouter/internal/sinks/webhook"
)

// sinkHTTPClient bounds every outgoing request; a delivery attempt has its
// own, longer context deadline on top.
// Its own transport keeps enough idle connections for a sink's concurrent
// sends; the default transport keeps two per host and would reconnect.
var sinkHTTPClient = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
	Proxy:               http.ProxyFromEnvironment,
	ForceAttemptHTTP2:   true,
	MaxIdleConns:        256,
	MaxIdleConnsPerHost: 64,
	IdleConnTimeout:     90 * time.Second,
	TLSHandshakeTimeout: 10 * time.Second,
}}

// defaultConcurrency is the sends in flight per sink type when the config
// sets none. Slack, PagerDuty and SMTP servers rate-limit, so they keep
// delivery's default of 2; a webhook receiver or a log file can take more,
// and their acks then share commits. 32 is what sustains 5,000 deliveries
// a second to a local receiver on two cores (16: about 4,400); it is also
// the most a crash can make a webhook receiver see twice.
var defaultConcurrency = map[string]int{"webhook": 32, "log": 4}

// BuildSinks makes the configured sinks; unless its config sets
// include_customer_data: true, each is wrapped so that it withholds
// customer data (see sinks.WithoutCustomerData). Their min_severity is
// applied while routing, not here, so no outbox row exists only to be
// skipped.
// Every sink that cannot be built is reported, by name and
// position, without its secrets. Building has no side effects: nothing
// connects anywhere and no file or folder is created (a log sink creates
// its file when it first writes), so check builds the sinks exactly as
// serve does.
func BuildSinks(cfg *config.Config) (map[string]sinks.Sink, error) {
	built := make(map[string]sinks.Sink, len(cfg.Sinks))
	var errs []error
	for _, sc := range cfg.Sinks {
		s, err := buildSink(sc)
		if err != nil {
			errs = append(errs, &config.Error{File: cfg.Path, Line: sc.Line, Column: sc.Column,
				Msg: fmt.Sprintf("sink %q: %v", sc.Name, err)})
			continue
		}
		if !sc.IncludeCustomerData {
			s = sinks.WithCustomerDataWithheld(s)
		}
		built[sc.Name] = s
	}
	return built, errors.Join(errs...)
}

func buildSink(sc config.Sink) (sinks.Sink, error) {
	switch sc.Type {
	case "slack":
		return slack.New(slack.Config{WebhookURL: sc.Secret("webhook_url").Reveal(), Token: sc.Secret("token").Reveal(),
			Channel: sc.String("channel"), APIURL: sc.String("api_url")}, sinkHTTPClient)
	case "pagerduty":
		return pagerduty.New(pagerduty.Config{RoutingKey: sc.Secret("routing_key").Reveal(), EventsURL: sc.String("events_url")}, sinkHTTPClient)
	case "email":
		port := 0
		if p := sc.String("port"); p != "" {
			var err error
			if port, err = strconv.Atoi(p); err != nil {
				return nil, fmt.Errorf("port %q is not a number", p)
			}
		}
		to, _ := sc.Settings["to"].([]string)
		return email.New(email.Config{Host: sc.String("host"), Port: port, Username: sc.String("username"),
			Password: sc.Secret("password").Reveal(), TLS: sc.String("tls"), CAFile: sc.String("ca_file"),
			From: sc.String("from"), To: to})
	case "webhook":
		headers := make(map[string]string, len(sc.Headers()))
		for k, v := range sc.Headers() {
			headers[k] = v.Reveal()
		}
		return webhook.New(webhook.Config{URL: sc.String("url"), Headers: headers, Secret: sc.Secret("secret").Reveal()}, sinkHTTPClient)
	case "log":
		return logsink.Open(sc.String("path"))
	}
	return nil, fmt.Errorf("unknown type %q", sc.Type)
}
