// Package metrics owns wabarouter's Prometheus metrics: their names, help
// texts and labels, in one place so that the stages that count (intake,
// router, delivery) agree and the docs can list them. Each Metrics value is
// registered on a registry handed to New; nothing here is global.
package metrics
