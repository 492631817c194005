// Package remind is a reminders bot: "remind NAME in 10m TEXT" or
// "remind NAME at 2026-12-03T15:04:05Z TEXT" schedules a reminder of its
// own name in the conversation, "cancel NAME" cancels it, and when it is
// due the bot says "reminder NAME: TEXT", also after the conversation
// ended idle and, with timers kept on Redis, after a restart. Scheduling a
// name again moves its reminder.
//
// A reminder is said at least once: a process killed after saying it and
// before its timer was settled (a round trip) leaves it to be said again
// when the timer's lease runs out, since of a repeat and a loss a reminder
// should rather repeat (see package timer).
//
// It needs timers on its scopes: botserver gives them to the
// conversations of an adapter whose section says "timers: true" (see
// package timer); elsewhere it answers that reminders are off.
package remind
