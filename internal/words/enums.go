package words

// enumNames are the human names of the enums Meta sends, where lower
// case with spaces would not read as English or would hide what it means.
var enumNames = map[string]string{
	"INCREASED_CAPABILITIES_ELIGIBILITY_FAILED":         "not eligible for higher messaging limits",
	"INCREASED_CAPABILITIES_ELIGIBILITY_DEFERRED":       "eligibility for higher messaging limits deferred",
	"INCREASED_CAPABILITIES_ELIGIBILITY_NEED_MORE_INFO": "more information needed for higher messaging limits",
	"OBA_APPROVED":         "official business account approved",
	"OBA_REJECTED":         "official business account rejected",
	"BIZ_INITIATED":        "business-initiated",
	"USER_INITIATED":       "user-initiated",
	"TIER_50":              "50 customers a day",
	"TIER_250":             "250 customers a day",
	"TIER_1K":              "1,000 customers a day",
	"TIER_10K":             "10,000 customers a day",
	"TIER_100K":            "100,000 customers a day",
	"TIER_UNLIMITED":       "unlimited customers",
	"SCHEDULE_FOR_DISABLE": "scheduled for a ban",
	"DISABLE":              "banned",
	"REINSTATE":            "reinstated",
}
