// Package web is the gin engine: routes, middleware, and the browser pages (login, consent, logout)
// rendered from embedded templates. It is the only package that imports gin.
package web
