package atomicfile

import (
	"io"
	"os"
	"path/filepath"
)

// WriteFile puts data at path, replacing any file there.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Stream(path, perm, func(w io.Writer) error { _, err := w.Write(data); return err })
}

// Stream is WriteFile for data written by fill (an export, say). When
// fill fails nothing is left at path or beside it.
func Stream(path string, perm os.FileMode, fill func(io.Writer) error) error {
	return write(path, perm, fill, os.Rename)
}

// WriteNew puts data at path only if nothing is there; otherwise it
// returns an error that matches os.ErrExist and leaves the file as it was.
func WriteNew(path string, data []byte, perm os.FileMode) error {
	return write(path, perm, func(w io.Writer) error { _, err := w.Write(data); return err }, os.Link)
}

// Commit puts at path a file already written at tmp by code that can only
// write to a path (dlib's serialiser, say): tmp is fsynced, renamed onto
// path, and the directory fsynced. tmp must be in path's directory; it is
// gone afterwards, also when Commit fails.
func Commit(tmp, path string) error {
	defer os.Remove(tmp) // after a rename there is nothing left to remove
	f, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func write(path string, perm os.FileMode, fill func(io.Writer) error, place func(tmp, path string) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a rename there is nothing left to remove
	err = f.Chmod(perm)
	if err == nil {
		err = fill(f)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := place(f.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes the new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
