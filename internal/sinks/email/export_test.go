package email

// For the sweep, which lives in package email_test.
var (
	Lines        = lines
	SweepSamples = sweepFixtures
)

const InfoLine = infoLine
