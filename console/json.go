package console

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/hotline"
)

// maxBodyBytes bounds a console request body: the largest, a lookup of 1,000 SIDs,
// is about 40 KiB.
const maxBodyBytes = 64 << 10

// bind decodes the JSON body into v strictly: Content-Type application/json, one
// object, no unknown fields, right types, at most 64 KiB. Each problem is EINVALID
// (ETOOLARGE for size) with a message that names the field.
func bind(c echo.Context, v any) error {
	r := c.Request()
	if mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); mt != echo.MIMEApplicationJSON {
		return hotline.Errorf(hotline.EINVALID, "Send a JSON object with Content-Type: application/json.")
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, v)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return hotline.Errorf(hotline.EINVALID, "The body holds more than one JSON value: send one object.")
	}
	return nil
}

// bindOptional is bind for endpoints whose body may be left out.
func bindOptional(c echo.Context, v any) error {
	if c.Request().ContentLength == 0 {
		return nil
	}
	return bind(c, v)
}

// jsonError turns a decoding error into a message a person can act on.
func jsonError(err error, v any) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var size *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return hotline.Errorf(hotline.EINVALID, "The body is empty: send a JSON object.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return hotline.Errorf(hotline.EINVALID, "The body is not valid JSON: it ends too soon.")
	case errors.As(err, &size):
		return hotline.Errorf(hotline.ETOOLARGE, "The body is larger than %d KiB.", maxBodyBytes>>10)
	case errors.As(err, &syntax):
		return hotline.Errorf(hotline.EINVALID, "The body is not valid JSON (at byte %d).", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return hotline.Errorf(hotline.EINVALID, "The body must be a JSON object.")
		}
		return hotline.Errorf(hotline.EINVALID, "%s: must be %s, not a JSON %s.", typ.Field, kind(typ.Type), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return hotline.Errorf(hotline.EINVALID, "%s: unknown field; the fields are %s.", field, fieldNames(v))
	}
	return hotline.Errorf(hotline.EINVALID, "The body is not a JSON object the server understands.")
}

// kind names a Go type the way a JSON client thinks of it.
func kind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64, reflect.Uint32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return "an object"
}

// fieldNames lists the JSON fields of the struct v points to.
func fieldNames(v any) string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return "none"
	}
	var names []string
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return strings.Join(names, ", ")
}

// idParam parses the :id of the route.
func idParam(c echo.Context) (hotline.ID, error) {
	id, err := hotline.ParseID(c.Param("id"))
	if err != nil {
		return id, hotline.Errorf(hotline.EINVALID, "id: %s", hotline.ErrorMessage(err))
	}
	return id, nil
}

// render writes v as JSON with the status.
func render(c echo.Context, status int, v any) error {
	return c.JSON(status, v)
}
