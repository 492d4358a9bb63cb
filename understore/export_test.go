package understore

// DisableFastRead makes a local Store use the portable os.Root ReadAt path,
// so tests cover it on Linux too.
func DisableFastRead(st Store) {
	if l, ok := st.(*local); ok {
		l.fast.disable()
	}
}

// ParseUploadID is the local store's upload-ID parser.
var ParseUploadID = parseUploadID

// UploadsDir is where the local store stages uploads, under its directory.
const UploadsDir = uploadsDir

// AfterPart sets the local store's hook that runs after CompleteUpload has
// copied each part.
func AfterPart(st Store, f func(num int)) {
	st.(*local).afterPart = f
}
