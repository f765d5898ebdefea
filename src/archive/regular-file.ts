/**
 * Opening a file whose bytes go into an archive, so that what is read is what was meant: a regular
 * file, never a FIFO or device (opening a FIFO for reading blocks until a writer comes, so it is
 * opened non-blocking and refused after `fstat`), and — for entries of a directory being packed —
 * never a symbolic link put in its place after it was listed (`O_NOFOLLOW`), which would send the
 * link's target instead.
 */
import { constants, type Stats } from "node:fs"
import { type FileHandle, open } from "node:fs/promises"
import { failureOf, PackFailure } from "./pack-failure.js"

const kindOf = (stat: Stats): string =>
  stat.isDirectory() ?
    "a directory" :
    stat.isFIFO() ?
    "a FIFO" :
    stat.isSocket() ?
    "a socket" :
    stat.isCharacterDevice() || stat.isBlockDevice() ?
    "a device" :
    "something else"

/**
 * An open handle on the regular file `path` and its `fstat`; fails with `PackFailure` (`ELOOP`
 * when `followLinks` is false and `path` is a link, `EISDIR` / `EINVAL` when it is no regular file).
 */
export const openRegularFile = async (
  path: string,
  options: { readonly followLinks: boolean }
): Promise<{ readonly handle: FileHandle; readonly stat: Stats }> => {
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | (options.followLinks ? 0 : constants.O_NOFOLLOW)
  const handle = await open(path, flags).catch((error) => {
    throw failureOf(path, error)
  })
  try {
    const stat = await handle.stat()
    if (!stat.isFile()) {
      throw new PackFailure(path, stat.isDirectory() ? "EISDIR" : "EINVAL", `${kindOf(stat)}, not a regular file`)
    }
    return { handle, stat }
  } catch (error) {
    await handle.close()
    throw failureOf(path, error)
  }
}

/** The whole content of the regular file `path` (see `openRegularFile`). */
export const readRegularFile = async (path: string, options: { readonly followLinks: boolean }): Promise<Buffer> => {
  const { handle } = await openRegularFile(path, options)
  try {
    return await handle.readFile().catch((error) => {
      throw failureOf(path, error)
    })
  } finally {
    await handle.close()
  }
}
