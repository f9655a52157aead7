/**
 * The pcapng blocks, checked field by field against draft-ietf-opsawg-pcapng (section 3.1 the
 * block layout, 3.5 options, 4.1 the Section Header Block, 4.2 the Interface Description Block,
 * 4.3 the Enhanced Packet Block). Every literal is little-endian, the order the writer uses.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CAPTURE_SNAPLEN,
  encodeEnhancedPacket,
  encodeInterfaceDescription,
  encodeSectionHeader,
  LINKTYPE_RAW,
  OptionCode,
} from '../../src/capture/pcapng.js';
import { hex } from '../raw/captures.js';

describe('pcapng blocks', () => {
  test('a Section Header Block without options is 28 bytes: version 1.0, section length unknown', () => {
    assert.deepEqual(
      encodeSectionHeader(),
      hex(
        '0a0d0d0a' + // block type 0x0A0D0D0A, the same in either byte order
          '1c000000' + // block total length 28
          '4d3c2b1a' + // byte-order magic 0x1A2B3C4D, as written little-endian
          '0100' + // major version 1
          '0000' + // minor version 0
          'ffffffffffffffff' + // section length -1: not specified
          '1c000000', // block total length again
      ),
    );
  });

  test('a Section Header Block carries shb_userappl padded to 32 bits, then opt_endofopt', () => {
    assert.deepEqual(
      encodeSectionHeader([{ code: OptionCode.shbUserApplication, value: 'sockkit' }]),
      hex(
        '0a0d0d0a' +
          '2c000000' + // block total length 44
          '4d3c2b1a' +
          '0100' +
          '0000' +
          'ffffffffffffffff' +
          '0400' + // option code 4: shb_userappl
          '0700' + // option length 7 (the value, without its padding)
          '736f636b6b6974' + // "sockkit"
          '00' + // padding to 32 bits
          '0000' + // opt_endofopt: code 0
          '0000' + // and length 0
          '2c000000',
      ),
    );
  });

  test('an Interface Description Block names the link type and the snapshot length', () => {
    assert.deepEqual(
      encodeInterfaceDescription(LINKTYPE_RAW, CAPTURE_SNAPLEN),
      hex(
        '01000000' + // block type 1: Interface Description Block
          '14000000' + // block total length 20
          '6500' + // link type 101: LINKTYPE_RAW, packets start with an IPv4 or IPv6 header
          '0000' + // reserved
          '00000400' + // snapshot length 262144
          '14000000',
      ),
    );
  });

  test('an Interface Description Block option of one byte (if_tsresol) is padded to four', () => {
    assert.deepEqual(
      encodeInterfaceDescription(LINKTYPE_RAW, 65_535, [
        { code: OptionCode.ifTimestampResolution, value: Buffer.of(6) },
      ]),
      hex(
        '01000000' +
          '20000000' + // block total length 32
          '6500' +
          '0000' +
          'ffff0000' + // snapshot length 65535
          '0900' + // option code 9: if_tsresol
          '0100' + // length 1
          '06000000' + // 10^-6 s, then 3 bytes of padding
          '00000000' + // opt_endofopt
          '20000000',
      ),
    );
  });

  test('an Enhanced Packet Block splits the timestamp in two 32-bit halves and pads the packet', () => {
    // 1_700_000_000_123_456 µs = 0x00060a24_18202240.
    assert.deepEqual(
      encodeEnhancedPacket(0, 1_700_000_000_123_456, Buffer.from('hello')),
      hex(
        '06000000' + // block type 6: Enhanced Packet Block
          '28000000' + // block total length 40
          '00000000' + // interface id 0
          '240a0600' + // timestamp, upper 32 bits: 0x00060a24
          '40222018' + // timestamp, lower 32 bits: 0x18202240
          '05000000' + // captured packet length 5
          '05000000' + // original packet length 5
          '68656c6c6f' + // "hello"
          '000000' + // padding to 32 bits
          '28000000',
      ),
    );
  });

  test('an Enhanced Packet Block of a packet already 32-bit aligned has no padding', () => {
    const block = encodeEnhancedPacket(3, 1, Buffer.from('abcd'));
    assert.equal(block.length, 36);
    assert.equal(block.readUInt32LE(8), 3);
    assert.equal(block.readUInt32LE(12), 0);
    assert.equal(block.readUInt32LE(16), 1);
    assert.equal(block.subarray(28, 32).toString(), 'abcd');
    assert.equal(block.readUInt32LE(32), 36);
  });

  test('a timestamp that is negative or not whole is refused', () => {
    assert.throws(() => encodeEnhancedPacket(0, -1, Buffer.alloc(1)), RangeError);
    assert.throws(() => encodeEnhancedPacket(0, 1.5, Buffer.alloc(1)), RangeError);
  });
});
