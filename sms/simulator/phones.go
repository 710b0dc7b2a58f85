package simulator

import (
	"container/list"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// EventType says what an Event reports.
type EventType string

// Event types.
const (
	EventMessage EventType = "message" // a text to or from the phone
	EventStatus  EventType = "status"  // a text to the phone changed status
	EventNotice  EventType = "notice"  // something the page should explain, such as a refused send
)

// Direction says which way a text went, seen from the phone.
type Direction string

// Directions.
const (
	DirectionToPhone   Direction = "to_phone"   // from the hotline to the texter
	DirectionFromPhone Direction = "from_phone" // from the texter to the hotline
)

// Event is one entry of a phone's history and of its live stream. Bodies are text,
// never markup: the page inserts them with textContent.
type Event struct {
	Type      EventType      `json:"type"`
	SID       string         `json:"sid,omitempty"`
	Direction Direction      `json:"direction,omitempty"`
	Body      string         `json:"body,omitempty"`
	Status    hotline.Status `json:"status,omitempty"`
	At        time.Time      `json:"at"`

	textID hotline.ID // the outbox entry of a text to the phone, for Lookup
}

// subscriber is one live stream of a phone. Its channel is closed when it falls
// behind or the simulator closes; the page then reconnects and replays the history.
type subscriber struct {
	ch     chan Event
	closed bool
}

func (s *subscriber) close() {
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
}

// phone is a simulated handset: what it sent and received, and who watches it.
type phone struct {
	number  hotline.Address
	history []Event
	subs    map[*subscriber]struct{}
	lru     *list.Element
}

// phoneBook keeps the phones, bounded in number and history. Its callers hold the
// simulator's lock.
type phoneBook struct {
	limit, max int
	phones     map[hotline.Address]*phone
	lru        *list.List // most recently used first
}

func newPhoneBook(limit, maxPhones int) *phoneBook {
	return &phoneBook{limit: limit, max: maxPhones, phones: map[hotline.Address]*phone{}, lru: list.New()}
}

// get returns the phone with the number, making it (and forgetting the least
// recently used idle phone when there are too many).
func (b *phoneBook) get(number hotline.Address) *phone {
	if p, ok := b.phones[number]; ok {
		b.lru.MoveToFront(p.lru)
		return p
	}
	p := &phone{number: number, subs: map[*subscriber]struct{}{}}
	p.lru = b.lru.PushFront(p)
	b.phones[number] = p
	for e := b.lru.Back(); e != nil && len(b.phones) > b.max; {
		prev := e.Prev()
		if old := e.Value.(*phone); len(old.subs) == 0 && old != p {
			b.lru.Remove(e)
			delete(b.phones, old.number)
		}
		e = prev
	}
	return p
}

// add appends ev to the phone's history and streams it.
func (b *phoneBook) add(number hotline.Address, ev Event) {
	p := b.get(number)
	p.history = append(p.history, ev)
	if over := len(p.history) - b.limit; over > 0 {
		p.history = append(p.history[:0:0], p.history[over:]...)
	}
	p.broadcast(ev)
}

// setStatus moves a text to the phone to status and streams the change.
func (b *phoneBook) setStatus(number hotline.Address, sid string, status hotline.Status) {
	p, ok := b.phones[number]
	if !ok {
		return
	}
	for i := range p.history {
		if p.history[i].SID == sid && p.history[i].Direction == DirectionToPhone {
			p.history[i].Status = status
			p.broadcast(Event{Type: EventStatus, SID: sid, Status: status, At: time.Now().UTC()})
			return
		}
	}
}

// sidFor returns the SID the simulator gave the outbox entry textID, if it still
// remembers it.
func (b *phoneBook) sidFor(number hotline.Address, textID hotline.ID) (string, bool) {
	p, ok := b.phones[number]
	if !ok || hotline.IsZeroID(textID) {
		return "", false
	}
	for _, ev := range p.history {
		if ev.textID == textID {
			return ev.SID, true
		}
	}
	return "", false
}

// subscribe returns the phone's history and a live stream of what follows.
func (b *phoneBook) subscribe(number hotline.Address) ([]Event, *subscriber) {
	p := b.get(number)
	sub := &subscriber{ch: make(chan Event, 64)}
	p.subs[sub] = struct{}{}
	return append([]Event(nil), p.history...), sub
}

// unsubscribe ends a stream.
func (b *phoneBook) unsubscribe(number hotline.Address, sub *subscriber) {
	if p, ok := b.phones[number]; ok {
		delete(p.subs, sub)
	}
	sub.close()
}

// closeAll ends every stream.
func (b *phoneBook) closeAll() {
	for _, p := range b.phones {
		for sub := range p.subs {
			sub.close()
			delete(p.subs, sub)
		}
	}
}

// broadcast streams ev to every subscriber, dropping those that fall behind.
func (p *phone) broadcast(ev Event) {
	for sub := range p.subs {
		select {
		case sub.ch <- ev:
		default:
			sub.close()
			delete(p.subs, sub)
		}
	}
}
