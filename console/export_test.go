package console

// Seq returns the number of the hub's last event, for tests that must wait until the
// hub has numbered what was published (Publish hands changes to Run asynchronously).
func (h *Hub) Seq() uint64 { return h.current() }
