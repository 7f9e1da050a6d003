// Package storagetest is the one conformance suite of storage.Store, a list of {name, fn} subtests that
// each start from empty tables. Every storage change runs it, on PostgreSQL and on the embedded SQLite
// store: storage's own tests (store_test.go) call Run for both. Besides the behaviour of every method it
// races 16 transactions for one authorization code and for one refresh token.
//
// It imports storage and fosite, none of our other packages; nothing but tests imports it.
package storagetest
