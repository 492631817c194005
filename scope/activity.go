package scope

// The activity list: most recently moved at head. An active scope moves to
// the front at most once per Manager.moveEvery, because moving touches two
// neighbours and the head, three entries that are seldom in cache when
// thousands of scopes are busy; so the list is ordered by entry.moved, and
// entry.last, the exact last activity, is at most moveEvery later.

// touchLocked records activity on e.
func (m *Manager) touchLocked(e *entry) {
	now := m.now()
	e.last = now
	if now-e.moved >= m.moveEvery {
		e.moved = now
		e.sh.moveToFrontLocked(e)
	}
}

func (sh *shard) pushFrontLocked(e *entry) {
	e.prev, e.next = nil, sh.head
	if sh.head != nil {
		sh.head.prev = e
	}
	sh.head = e
	if sh.tail == nil {
		sh.tail = e
	}
}

func (sh *shard) removeLocked(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else if sh.head == e {
		sh.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else if sh.tail == e {
		sh.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

func (sh *shard) moveToFrontLocked(e *entry) {
	if sh.head == e {
		return
	}
	sh.removeLocked(e)
	sh.pushFrontLocked(e)
}
