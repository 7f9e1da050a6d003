package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
)

//go:embed templates/*.html static
var assets embed.FS

// pageNames are the pages; each is templates/NAME.html defining "content", rendered in the layout.
var pageNames = []string{"error", "login", "consent", "logout", "signed_out", "home"}

func parsePages() (map[string]*template.Template, error) {
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New(name).ParseFS(assets, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: parse template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// pageData is what every page may show. Handlers fill what their page uses.
type pageData struct {
	Title   string
	Base    string // the issuer's path, prefix of our links
	CSRF    string // the form's CSRF token
	Flow    string // the signed flow token
	Logout  string // the signed logout token
	Email   string // pre-filled email (login) or the signed-in user's email
	Error   string // a form error, shown above the form
	Message string // the error page's text
	Code    string // an OAuth error code on the error page
	Client  string // the client's name
	Scopes  []scopeLine
}

// scopeLine is one requested scope in plain words.
type scopeLine struct {
	Scope, Description string
}

// render executes page into a buffer first, so a template error never leaves half a page behind.
func (s *server) render(c *gin.Context, status int, page string, data pageData) {
	data.Base = s.base
	var buf bytes.Buffer
	t, ok := s.pages[page]
	if !ok {
		s.log.Error("render: unknown page", "page", page, "request_id", c.GetString(requestIDKey))
		c.Data(http.StatusInternalServerError, "text/html; charset=utf-8", []byte(plain500))
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.Error("render", "page", page, "request_id", c.GetString(requestIDKey), "err", err)
		c.Data(http.StatusInternalServerError, "text/html; charset=utf-8", []byte(plain500))
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// serveStatic serves the embedded files under static/, with no directory listings. Anything else
// under /static/ (a missing file, the directory itself, a path that climbs out) gets the same 404 page
// as every unknown path.
func (s *server) serveStatic(c *gin.Context) {
	name := path.Clean("static/" + c.Param("file"))
	if !strings.HasPrefix(name, "static/") {
		s.notFound(c)
		return
	}
	b, err := fs.ReadFile(assets, name)
	if err != nil {
		s.notFound(c)
		return
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	c.Header("Cache-Control", "public, max-age=3600")
	c.Data(http.StatusOK, ctype, b)
}
