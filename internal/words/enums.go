package words

// enumNames are the human names of the enums Meta sends, where lower
// case with spaces would not read as English or would hide what it means.
// Each name fits where titles put an enum: after "was" for a decision,
// in parentheses for a reason, after "limit now" for a tier.
var enumNames = map[string]string{
	"INCREASED_CAPABILITIES_ELIGIBILITY_FAILED":         "not eligible for higher messaging limits",
	"INCREASED_CAPABILITIES_ELIGIBILITY_DEFERRED":       "eligibility for higher messaging limits deferred",
	"INCREASED_CAPABILITIES_ELIGIBILITY_NEED_MORE_INFO": "more information needed for higher messaging limits",
	"OBA_APPROVED":         "official business account approved",
	"OBA_REJECTED":         "official business account rejected",
	"OBA_APPEAL_REJECTED":  "official business account appeal rejected",
	"BIZ_INITIATED":        "business-initiated",
	"USER_INITIATED":       "user-initiated",
	"BUSINESS_INITIATED":   "business-initiated",
	"TIER_50":              "50 customers a day",
	"TIER_250":             "250 customers a day",
	"TIER_1K":              "1,000 customers a day",
	"TIER_2K":              "2,000 customers a day",
	"TIER_10K":             "10,000 customers a day",
	"TIER_100K":            "100,000 customers a day",
	"TIER_UNLIMITED":       "unlimited customers",
	"TIER_NOT_SET":         "no limit set yet",
	"SCHEDULE_FOR_DISABLE": "scheduled for a ban",
	"DISABLE":              "banned",
	"REINSTATE":            "reinstated",
	"WABA":                 "WhatsApp Business Account",

	// Template quality scores, reading as the quality they stand for.
	"GREEN":  "high (green)",
	"YELLOW": "medium (yellow)",
	"RED":    "low (red)",

	// Template rejection reasons and pause kinds.
	"TAG_CONTENT_MISMATCH":   "content does not match its category",
	"CATEGORY_NOT_AVAILABLE": "category not available",
	"FIRST_PAUSE":            "first pause",
	"SECOND_PAUSE":           "second pause",
	"RATE_LIMITING_PAUSE":    "paused by rate limiting",
	"UNPAUSE":                "unpaused",

	// Display name rejection reasons.
	"NAME_EMPLOYEE_ISSUE":       "the name cannot be an employee's",
	"NAME_ENDCLIENT_NOTRELATED": "the name is not related to the business",
	"NAME_FORMAT_UNACCEPTABLE":  "the name's format is not accepted",
	"NAME_INDIVIDUAL_ISSUE":     "the name cannot be a person's",
	"NAME_NOT_CONSISTENT":       "the name does not match the business",

	// Account update events.
	"MM_LITE_TERMS_SIGNED":                       "Marketing Messages Lite terms signed",
	"AUTH_INTL_PRICE_ELIGIBILITY_UPDATE":         "eligibility for international authentication rates changed",
	"BUSINESS_PRIMARY_LOCATION_COUNTRY_UPDATE":   "primary business location set",
	"VOLUME_BASED_PRICING_TIER_UPDATE":           "volume pricing tier changed",
	"PARTNER_CLIENT_CERTIFICATION_STATUS_UPDATE": "partner-led business verification updated",

	// Why a partner lost an account (disconnection_info.reason).
	"CHANGE_NUMBER":        "the phone number changed",
	"COMPANION_INACTIVITY": "the linked device was inactive",
	"PRIMARY_INACTIVITY":   "the WhatsApp Business app was inactive",
	"USER_RE_REGISTERED":   "the number was registered again",

	// Messages customers opt out of (user_preferences).
	"marketing_messages": "marketing messages",
}
