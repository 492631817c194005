// Package matrixtest is a fake Matrix homeserver for testing the matrix
// adapter and bots built on it. It serves the client-server API's
// endpoints that a bot uses, in their published formats, over real HTTP:
//
//   - GET /_matrix/client/v3/account/whoami;
//   - GET /_matrix/client/v3/sync with since, timeout and filter: a long
//     poll that answers as soon as there is something after since, with
//     rooms.join (timeline and state), rooms.invite (invite_state) and
//     next_batch. Tokens are positions in one stream ("s42"), so a client
//     that resumes from an old token gets everything after it again, as
//     from a real server;
//   - GET /_matrix/client/v3/rooms/{roomId}/messages with dir=b, from,
//     to and limit, to page back through a timeline a sync cut short
//     (SetTimelineLimit makes syncs answer limited: true);
//   - PUT /_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId},
//     idempotent per access token and transaction id as the
//     specification demands: the same txnId answers the same event_id
//     and makes no second event;
//   - POST /_matrix/client/v3/join/{roomIdOrAlias} and
//     /_matrix/client/v3/rooms/{roomId}/join, for a room the bot was
//     invited to.
//
// Errors are {"errcode": ..., "error": ...} with the specification's
// codes and statuses (M_MISSING_TOKEN and M_UNKNOWN_TOKEN 401,
// M_FORBIDDEN 403, M_NOT_FOUND and M_UNRECOGNIZED 404, M_NOT_JSON 400,
// M_LIMIT_EXCEEDED 429 with retry_after_ms and a Retry-After header).
//
// The server records what a well-behaved client never does, as
// Violations: a send while the client is rate-limited (before the
// retry_after_ms it was given has passed), and a send that repeats, under
// a new transaction id, a message whose first send was committed but
// whose answer was lost (a retry that forgot its transaction id and so
// posted the message twice).
package matrixtest
