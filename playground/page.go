package playground

import (
	"embed"
	"io/fs"
)

//go:embed page
var page embed.FS

func pageFS() fs.FS {
	sub, err := fs.Sub(page, "page")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	return sub
}
