// Package blockkit lays out a Slack chat.postMessage payload (Block Kit
// blocks and legacy attachments) as an HTML page that looks as Slack
// shows it, with no script and nothing loaded from elsewhere. The docs'
// pictures (internal/tools/docpics) and the console's previews both draw
// with it, so what the docs show is what the console shows.
package blockkit
