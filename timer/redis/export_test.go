package redis

// ClaimHash and AckHash tell a claim's and an ack's script calls apart
// in the tests' round-trip counts.
var (
	ClaimHash = claim.Hash()
	AckHash   = ack.Hash()
)
