package hotline

import "context"

// MaxHoldsListed bounds the list of legal holds one call returns.
const MaxHoldsListed = 1000

// Holds lists the conversations under a legal hold, oldest first (at most
// MaxHoldsListed), from the store's index of them: no walk of every conversation.
// It returns conversations, not their messages, and so is not audited. Only
// coordinators and the operator may.
//
// Errors: EFORBIDDEN.
func (r *Retention) Holds(ctx context.Context, c Caller) ([]Conversation, error) {
	if err := c.requireCoordinator("list legal holds"); err != nil {
		return nil, err
	}
	var out []Conversation
	err := r.svc.store.View(ctx, func(tx ReadTx) error {
		out = nil
		return tx.Conversations(ConversationFilter{Held: true, Limit: MaxHoldsListed}, func(conv Conversation) error {
			out = append(out, conv)
			return nil
		})
	})
	return out, err
}
