//! A bounds-checked big-endian reader over a byte slice. Every read either
//! succeeds or returns [`Short`]; nothing here can panic or allocate more
//! than the slice it was given.

/// A read ran past the end of the box it was reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Short;

pub struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Short> {
        if n > self.remaining() {
            return Err(Short);
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn skip(&mut self, n: usize) -> Result<(), Short> {
        self.take(n).map(|_| ())
    }

    pub fn u8(&mut self) -> Result<u8, Short> {
        Ok(self.take(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16, Short> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u24(&mut self) -> Result<u32, Short> {
        let b = self.take(3)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    pub fn u32(&mut self) -> Result<u32, Short> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u64(&mut self) -> Result<u64, Short> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    pub fn fourcc(&mut self) -> Result<[u8; 4], Short> {
        let b = self.take(4)?;
        Ok([b[0], b[1], b[2], b[3]])
    }

    /// Version and flags of a "full box".
    pub fn full_box(&mut self) -> Result<(u8, u32), Short> {
        Ok((self.u8()?, self.u24()?))
    }

    /// Reads `count` entries of `width` bytes each, refusing before it
    /// allocates when the box is too short to hold them.
    pub fn table<T>(
        &mut self,
        count: u32,
        width: usize,
        mut read: impl FnMut(&mut Bytes<'a>) -> Result<T, Short>,
    ) -> Result<Vec<T>, Short> {
        let count = count as usize;
        if count
            .checked_mul(width)
            .is_none_or(|n| n > self.remaining())
        {
            return Err(Short);
        }
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            out.push(read(self)?);
        }
        Ok(out)
    }
}

/// A bit reader for codec configuration records (AudioSpecificConfig).
pub struct Bits<'a> {
    data: &'a [u8],
    bit: usize,
}

impl<'a> Bits<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Bits { data, bit: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.data.len() * 8 - self.bit
    }

    pub fn read(&mut self, n: u32) -> Result<u32, Short> {
        if n as usize > self.remaining() || n > 32 {
            return Err(Short);
        }
        let mut v: u32 = 0;
        for _ in 0..n {
            let byte = self.data[self.bit / 8];
            let b = (byte >> (7 - (self.bit % 8))) & 1;
            v = (v << 1) | b as u32;
            self.bit += 1;
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded() {
        let mut b = Bytes::new(&[0, 1, 2]);
        assert_eq!(b.u16(), Ok(1));
        assert_eq!(b.u16(), Err(Short));
        assert_eq!(b.u8(), Ok(2));
        assert_eq!(b.u8(), Err(Short));
    }

    #[test]
    fn table_refuses_counts_the_box_cannot_hold() {
        let data = [0u8; 8];
        let mut b = Bytes::new(&data);
        assert_eq!(b.table(u32::MAX, 4, |b| b.u32()), Err(Short));
        assert_eq!(b.table(2, 4, |b| b.u32()), Ok(vec![0, 0]));
    }

    #[test]
    fn bits_read_msb_first() {
        let mut b = Bits::new(&[0b1010_0000, 0xff]);
        assert_eq!(b.read(3), Ok(0b101));
        assert_eq!(b.read(5), Ok(0));
        assert_eq!(b.read(8), Ok(0xff));
        assert_eq!(b.read(1), Err(Short));
    }
}
