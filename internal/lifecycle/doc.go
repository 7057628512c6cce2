// Package lifecycle owns what the WhatsApp Business schema says about how
// a problem runs its course: which events end one (a REINSTATE ends a
// ban, GREEN ends a YELLOW template, UNFLAGGED ends a flagged number),
// how bad each state of a problem is, so that a worse one escalates it
// (SCHEDULE_FOR_DISABLE, then DISABLE), and when a problem ends by itself
// (a restriction at its expiration). It reads events only; what an
// incident is, and what to send about it, belong to the router.
package lifecycle
