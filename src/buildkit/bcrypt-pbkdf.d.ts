// `bcrypt-pbkdf` ships no types: the one function ./ssh-agents.ts uses (OpenBSD's C signature:
// fills `key` with `keylen` derived bytes; 0 on success, -1 on an empty passphrase or salt).
declare module "bcrypt-pbkdf" {
  export function pbkdf(
    pass: Uint8Array,
    passlen: number,
    salt: Uint8Array,
    saltlen: number,
    key: Uint8Array,
    keylen: number,
    rounds: number
  ): number
}
