//! `std::io::Write` and `std::io::Read` for byte queues (`std` only).

use super::*;

/// Bytes in, as a non-blocking writer: a write copies as many bytes as fit
/// and fails with [`WouldBlock`](std::io::ErrorKind::WouldBlock) when none
/// do, and with [`BrokenPipe`](std::io::ErrorKind::BrokenPipe) once the
/// consumer is gone (checked first: no byte is written for nobody). `flush`
/// has nothing to do: every write is published when it returns.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
///
/// let (mut producer, mut consumer) = acqrel::spsc::bounded::<u8>(8);
/// write!(producer, "{}-{}", 4, 2).unwrap();
/// let mut text = String::new();
/// drop(producer); // end of stream
/// consumer.read_to_string(&mut text).unwrap();
/// assert_eq!(text, "4-2");
/// ```
#[cfg(feature = "std")]
impl<S: Storage> std::io::Write for Producer<u8, S, Polling> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.is_abandoned() {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        }
        match self.push_slice(buf) {
            0 if !buf.is_empty() => Err(std::io::ErrorKind::WouldBlock.into()),
            n => Ok(n),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Bytes in, as a blocking writer: a write parks until at least one byte
/// fits, then copies as many as fit; it fails with
/// [`BrokenPipe`](std::io::ErrorKind::BrokenPipe) once the consumer is gone.
///
/// # Examples
///
/// ```
/// use std::io::{BufRead, BufReader, Write};
///
/// let (mut producer, consumer) = acqrel::spsc::bounded_blocking::<u8>(4);
/// let reader = std::thread::spawn(move || {
///     BufReader::new(consumer).lines().map(Result::unwrap).collect::<Vec<_>>()
/// });
/// writeln!(producer, "first line, longer than the queue").unwrap();
/// writeln!(producer, "second").unwrap();
/// drop(producer);
/// assert_eq!(reader.join().unwrap(), ["first line, longer than the queue", "second"]);
/// ```
#[cfg(feature = "std")]
impl<S: Storage> std::io::Write for Producer<u8, S, Blocking> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut chunk = self
            .write_chunk_blocking(buf.len())
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))?;
        let n = chunk.len;
        chunk.copy_from(&buf[..n]);
        // SAFETY: [SPSC-I2] `copy_from` initialised all `n` slots of the chunk.
        unsafe { chunk.commit(n) };
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Bytes out, as a non-blocking reader: a read copies as many bytes as are
/// queued and fit, returns `Ok(0)` (end of stream) once the queue is empty
/// and the producer gone, and fails with
/// [`WouldBlock`](std::io::ErrorKind::WouldBlock) when it is empty but the
/// producer may still write.
///
/// # Examples
///
/// ```
/// use std::io::{ErrorKind, Read};
///
/// let (mut producer, mut consumer) = acqrel::spsc::bounded::<u8>(8);
/// let mut buf = [0; 8];
/// assert_eq!(consumer.read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
/// producer.push_slice(b"hey");
/// drop(producer);
/// assert_eq!(consumer.read(&mut buf).unwrap(), 3);
/// assert_eq!(consumer.read(&mut buf).unwrap(), 0); // end of stream
/// ```
#[cfg(feature = "std")]
impl<S: Storage> std::io::Read for Consumer<u8, S, Polling> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.pop_slice(buf) {
            0 if !buf.is_empty() => {
                if !self.is_abandoned() {
                    return Err(std::io::ErrorKind::WouldBlock.into());
                }
                // Abandoned: every byte the producer wrote is visible now
                // ([SPSC-O6]); zero from here on is the end of the stream.
                Ok(self.pop_slice(buf))
            }
            n => Ok(n),
        }
    }
}

/// Bytes out, as a blocking reader: a read parks until at least one byte is
/// queued, then copies as many as fit; `Ok(0)` is the end of the stream
/// (empty, and the producer gone).
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
///
/// let (mut producer, mut consumer) = acqrel::spsc::bounded_blocking::<u8>(4);
/// let writer = std::thread::spawn(move || producer.write_all(b"longer than the queue").unwrap());
/// let mut text = String::new();
/// consumer.read_to_string(&mut text).unwrap(); // parks until the producer is gone
/// writer.join().unwrap();
/// assert_eq!(text, "longer than the queue");
/// ```
#[cfg(feature = "std")]
impl<S: Storage> std::io::Read for Consumer<u8, S, Blocking> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.read_chunk_blocking(buf.len()) {
            Ok(chunk) => {
                let n = chunk.len;
                chunk.copy_to(&mut buf[..n]);
                chunk.commit_all();
                Ok(n)
            }
            Err(PopError::Abandoned) => Ok(0),
            Err(PopError::Empty) => unreachable!("a wait without a deadline does not time out"),
        }
    }
}
