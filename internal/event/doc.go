// Package event owns the meaning of a WhatsApp Business Account webhook: it
// turns a payload's bytes into typed Events, one per entry[].changes[] (one
// per status or inbound message for the messages field). It knows nothing of
// HTTP, signatures, rules or sinks.
//
// The parser is forgiving about shape, because Meta's payloads vary: object
// spelled with a space or missing, field on the entry or inside the value,
// restriction_info as an object, waba_ban_state as a list, times as unix
// numbers, numeric strings or dates, ids as numbers or strings. Unix times
// are read in seconds, milliseconds, microseconds or nanoseconds as their
// size says, and no time outside MinTime..MaxTime is built, so every Event
// encodes as JSON. Each such reading is noted in Event.Warnings. A change it cannot read is reported as
// a *ChangeError while its siblings are still returned, and a field it does
// not know still becomes an Event with its raw value.
//
// The package also names what a change is: Fingerprint, the hash that tells
// a redelivery of a change, and ProblemKey, the problem it is about (the
// default dedup key, PagerDuty incident and e-mail thread), both built from
// the event alone. Parser bounds the changes of one body and counts them
// before decoding any.
//
// Where Meta sends no value.event, the parser names the change so that rules
// and severity defaults can key on event:
//
//	account_review_update, phone_number_name_update  the decision (APPROVED, REJECTED, ...)
//	account_alerts                                   the alert_type
//	message_template_quality_update                  the new_quality_score (GREEN, YELLOW, RED, UNKNOWN)
//	template_category_update                         CATEGORY_CHANGED or CATEGORY_CHANGE_PENDING
//	business_capability_update                       CAPABILITY_UPDATE
//	message_template_components_update               COMPONENTS_UPDATE
//	messages                                         MESSAGE_STATUS, MESSAGE_RECEIVED or MESSAGES_ERROR
//	message_echoes                                   MESSAGE_ECHO, one event per echo
//	calls                                            CALL_CONNECT, CALL_TERMINATE, CALL_STATUS or CALLS_ERROR
//	user_preferences                                 STOP or RESUME (the choice), else PREFERENCES_UPDATE
//	template_correct_category_detection              CORRECT_CATEGORY_DETECTED
//	partner_solutions                                SOLUTION_UPDATED
//	payment_configuration_update                     the status (NEEDS_CONNECTING), else CONFIGURATION_UPDATE
//
// account_settings_update and business_status_update are known fields
// whose keys Meta does not document: the parser names no event for them.
package event
