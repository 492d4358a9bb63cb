package storage

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Page file layout (little endian). The header occupies [0, DataOffset); the
// data [DataOffset, DataOffset+length). All fields are part of the format.
//
//	 0  4 magic "RCPG"
//	 4  2 format version (1)
//	 6  2 reserved (0)
//	 8 16 file id
//	24  8 version
//	32  4 page index
//	36  4 data length
//	40  4 chunk size (format 2: ChunkSize, 16 KiB; format 1: 64 KiB)
//	44  4 number of chunks
//	48  8 generation
//	56  4 CRC32C of the chunk-CRC array (also kept in the journal and index)
//	60  4 CRC32C of bytes [0,60) followed by the chunk-CRC array
//	64 4n chunk CRCs: CRC32C of data [i*ChunkSize, min((i+1)*ChunkSize, length))
//	   .. zero padding up to DataOffset

type pageHeader struct {
	key    PageKey
	length uint32
	gen    uint64
	crcs   []uint32
	sum    uint32 // CRC32C of the chunk-CRC array
	chunk  int    // chunk size (set by decodePageHeader)
}

func chunksOf(length, chunk int64) int { return int((length + chunk - 1) / chunk) }

// chunkCRCsOf computes the CRCs of data's chunks of chunk bytes and the CRC
// of the array.
func chunkCRCsOf(data []byte, chunk int, crcs []uint32) ([]uint32, uint32) {
	crcs = crcs[:0]
	for off := 0; off < len(data); off += chunk {
		end := min(off+chunk, len(data))
		crcs = append(crcs, crc32c(data[off:end]))
	}
	return crcs, crcArraySum(crcs)
}

func crcArraySum(crcs []uint32) uint32 {
	var buf [4 * 64]byte
	var c uint32
	for len(crcs) > 0 {
		n := min(len(crcs), 64)
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint32(buf[4*i:], crcs[i])
		}
		c = crc32Update(c, buf[:4*n])
		crcs = crcs[n:]
	}
	return c
}

// encodePageHeader fills hdr (DataOffset bytes, zeroed by the caller) in
// the given format; h.crcs are over chunks of chunk bytes.
func encodePageHeader(hdr []byte, h *pageHeader, version uint16, chunk uint32) {
	copy(hdr, pageMagic)
	binary.LittleEndian.PutUint16(hdr[4:], version)
	copy(hdr[8:24], h.key.File[:])
	binary.LittleEndian.PutUint64(hdr[24:], h.key.Version)
	binary.LittleEndian.PutUint32(hdr[32:], h.key.Index)
	binary.LittleEndian.PutUint32(hdr[36:], h.length)
	binary.LittleEndian.PutUint32(hdr[40:], chunk)
	binary.LittleEndian.PutUint32(hdr[44:], uint32(len(h.crcs)))
	binary.LittleEndian.PutUint64(hdr[48:], h.gen)
	binary.LittleEndian.PutUint32(hdr[56:], h.sum)
	for i, c := range h.crcs {
		binary.LittleEndian.PutUint32(hdr[pageHeaderFixed+4*i:], c)
	}
	end := pageHeaderFixed + 4*len(h.crcs)
	c := crc32c(hdr[:60])
	c = crc32Update(c, hdr[pageHeaderFixed:end])
	binary.LittleEndian.PutUint32(hdr[60:], c)
}

// decodePageHeader parses and checks a header read from the start of a
// page file. buf must hold at least the fixed part and the CRC array.
func decodePageHeader(buf []byte, h *pageHeader) error {
	if len(buf) < pageHeaderFixed || string(buf[:4]) != pageMagic {
		return fmt.Errorf("%w: bad page header", ErrCorrupt)
	}
	switch v, c := binary.LittleEndian.Uint16(buf[4:]), binary.LittleEndian.Uint32(buf[40:]); {
	case v == pageFormatVersion && c == ChunkSize, v == 1 && c == legacyChunkSize:
		h.chunk = int(c)
	default:
		return fmt.Errorf("%w: page header format %d with %d-byte chunks not supported", ErrCorrupt, v, c)
	}
	copy(h.key.File[:], buf[8:24])
	h.key.Version = binary.LittleEndian.Uint64(buf[24:])
	h.key.Index = binary.LittleEndian.Uint32(buf[32:])
	h.length = binary.LittleEndian.Uint32(buf[36:])
	n := int(binary.LittleEndian.Uint32(buf[44:]))
	h.gen = binary.LittleEndian.Uint64(buf[48:])
	h.sum = binary.LittleEndian.Uint32(buf[56:])
	if n > maxChunks || n != chunksOf(int64(h.length), int64(h.chunk)) || len(buf) < pageHeaderFixed+4*n {
		return fmt.Errorf("%w: bad page header chunk count", ErrCorrupt)
	}
	c := crc32c(buf[:60])
	c = crc32Update(c, buf[pageHeaderFixed:pageHeaderFixed+4*n])
	if c != binary.LittleEndian.Uint32(buf[60:]) {
		return fmt.Errorf("%w: page header CRC mismatch", ErrCorrupt)
	}
	h.crcs = h.crcs[:0]
	for i := 0; i < n; i++ {
		h.crcs = append(h.crcs, binary.LittleEndian.Uint32(buf[pageHeaderFixed+4*i:]))
	}
	return nil
}

func crc32Update(c uint32, p []byte) uint32 {
	return crc32cUpdate(c, p)
}

// headerLen is how many header bytes to read for a page of length bytes:
// enough for the CRC array of the smallest chunk (format 2), which covers a
// format-1 header too; never past the header region.
func headerLen(length uint32) int {
	return min(DataOffset, pageHeaderFixed+4*chunksOf(int64(length), ChunkSize))
}

// Page file names: <dir>/<first byte of file id, 2 hex>/<file id hex>_<version
// hex>_<index hex>_<gen hex>.pg; a page being written is <name>.tmp. The
// generation makes every published file name unique, so a file removed from
// the index can be unlinked later without racing a new put of the same key.
const (
	pageExt = ".pg"
	tmpExt  = ".tmp"
)

func pageSubdir(dir string, id FileID) string {
	return filepath.Join(dir, fmt.Sprintf("%02x", id[0]))
}

func pageFileName(dir string, k PageKey, gen uint64) string {
	return filepath.Join(pageSubdir(dir, k.File),
		k.File.String()+"_"+strconv.FormatUint(k.Version, 16)+"_"+
			strconv.FormatUint(uint64(k.Index), 16)+"_"+strconv.FormatUint(gen, 16)+pageExt)
}

// parsePageName parses a base name made by pageFileName.
func parsePageName(base string) (k PageKey, gen uint64, ok bool) {
	if !strings.HasSuffix(base, pageExt) {
		return k, 0, false
	}
	parts := strings.Split(strings.TrimSuffix(base, pageExt), "_")
	if len(parts) != 4 || len(parts[0]) != 32 {
		return k, 0, false
	}
	if _, err := hexDecode(k.File[:], parts[0]); err != nil {
		return k, 0, false
	}
	v, err1 := strconv.ParseUint(parts[1], 16, 64)
	i, err2 := strconv.ParseUint(parts[2], 16, 32)
	g, err3 := strconv.ParseUint(parts[3], 16, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return k, 0, false
	}
	k.Version, k.Index = v, uint32(i)
	return k, g, true
}

// bufPool holds scratch buffers for unaligned reads (one chunk of either
// format) and headers.
type bufPool struct{ p sync.Pool }

func (b *bufPool) get() *[]byte {
	if v := b.p.Get(); v != nil {
		return v.(*[]byte)
	}
	buf := make([]byte, max(legacyChunkSize, ChunkSize, DataOffset))
	return &buf
}

func (b *bufPool) put(p *[]byte) { b.p.Put(p) }

// readHeader reads and validates the header of an open page file against
// what the index expects.
func readHeader(f *os.File, buf []byte, want PageKey, gen uint64, length uint32, sum uint32, h *pageHeader) error {
	n := headerLen(length)
	if _, err := f.ReadAt(buf[:n], 0); err != nil {
		return fmt.Errorf("%w: reading page header: %v", ErrCorrupt, err)
	}
	if err := decodePageHeader(buf[:n], h); err != nil {
		return err
	}
	if h.key != want || h.gen != gen || h.length != length || h.sum != sum {
		return fmt.Errorf("%w: page header does not match the index", ErrCorrupt)
	}
	return nil
}
