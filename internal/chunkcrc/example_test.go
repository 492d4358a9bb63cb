package chunkcrc_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ringcache/ringcache/internal/chunkcrc"
)

// A page file as the store keeps it: a 4 KiB header, then the data in
// 16 KiB chunks whose CRCs the header holds. ReadAt reads bytes of the page
// from the file (at base 4096), verifying every chunk the range touches.
func ExampleReader_ReadAt() {
	const dataOff, chunk = 4096, 16 << 10
	data := bytes.Repeat([]byte("ringcache"), 5000) // 45,000 bytes: 3 chunks
	file := bytes.NewReader(append(make([]byte, dataOff), data...))
	page := chunkcrc.Chunks{Start: 0, Length: int64(len(data)), Size: chunk, CRCs: chunkcrc.AppendSums(nil, data, chunk)}

	var rd chunkcrc.Reader
	p := make([]byte, 20)
	scratch := make([]byte, chunk)
	if err := rd.ReadAt(file, dataOff, page, p, 16380, scratch); err != nil {
		fmt.Println(err)
	}
	fmt.Printf("%s\n", p)

	page.CRCs[1]++ // as if chunk 1 were corrupt
	err := rd.ReadAt(file, dataOff, page, p, 16380, scratch)
	var me *chunkcrc.MismatchError
	fmt.Println(errors.As(err, &me), me.Index)
	// Output:
	// ringcacheringcacheri
	// true 1
}
