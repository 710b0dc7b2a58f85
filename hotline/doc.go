// Package hotline is the domain of a text (SMS) crisis hotline: contacts who text
// in, their conversations and messages, the pure conversation state machine, the
// routing and keyword rules, and the use cases (Service) that tie them together.
//
// It imports no adapter. The store, the SMS senders, the HTTP layer and the console
// implement the interfaces declared in ports.go. Every error a use case returns is
// an *Error with one of the codes below, so adapters map codes (not strings) to
// their own world, such as HTTP statuses.
package hotline
