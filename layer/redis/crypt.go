package redis

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"slices"
)

// cryptOverhead is what sealing adds to a payload: nonce and tag.
const cryptOverhead = 12 + 16

// crypter seals payloads with AES-256-GCM under the first key and opens
// them with whichever key works, so that keys can be rotated while
// messages sealed under the previous one are still queued. Keys are
// passphrases of any length, stretched to 32 bytes by SHA-256 as
// channels_redis derives its Fernet keys.
type crypter struct {
	aeads []cipher.AEAD
}

func newCrypter(keys []string) (*crypter, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	c := &crypter{}
	for _, k := range keys {
		sum := sha256.Sum256([]byte(k))
		block, err := aes.NewCipher(sum[:])
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		c.aeads = append(c.aeads, aead)
	}
	return c, nil
}

// seal appends nonce and sealed plain to dst.
func (c *crypter) seal(dst, plain []byte) []byte {
	aead := c.aeads[0]
	n := len(dst)
	dst = slices.Grow(dst, aead.NonceSize()+len(plain)+aead.Overhead())[:n+aead.NonceSize()]
	_, _ = rand.Read(dst[n:]) // never fails: crypto/rand crashes the program instead
	return aead.Seal(dst, dst[n:], plain, nil)
}

func (c *crypter) open(sealed []byte) ([]byte, error) {
	for _, aead := range c.aeads {
		ns := aead.NonceSize()
		if len(sealed) < ns+aead.Overhead() {
			break
		}
		if plain, err := aead.Open(nil, sealed[:ns], sealed[ns:], nil); err == nil {
			return plain, nil
		}
	}
	return nil, ErrDecrypt
}
