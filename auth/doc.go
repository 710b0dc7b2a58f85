// Package auth holds the cryptography behind console accounts, behind the small
// interfaces the hotline package declares: argon2id password hashing in PHC format
// (Argon2id), RFC 6238 one-time codes (TOTP), random 256-bit tokens (Tokens), and the
// in-memory sign-in throttle (Throttle).
package auth
