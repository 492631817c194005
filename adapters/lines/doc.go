// Package lines is the text handling of line-based protocols (IRC, a
// terminal, a line-oriented socket): Split cuts outbound text into
// protocol-sized lines on UTF-8 boundaries, and Reader reads inbound lines
// with a bound on their length, skipping the ones too long or not UTF-8
// and saying so, rather than growing without bound or ending the stream.
package lines
