import { expect } from 'chai';
import { isoUtc, secondsUtc } from '../../app/dates.js';

describe('isoUtc (dates as text, fast)', () => {
  it('says what toISOString says, across days, years, leap days and odd values', () => {
    const samples = [0, 1, 999, 1000, 59_999, 3_599_999, 86_399_999, 86_400_000, Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2026, 10, 22, 14, 3, 9, 7), 253_402_300_799_999, -1, -86_400_001, 253_402_300_800_000, 1.5];
    let x = Date.UTC(2025, 10, 1);
    for (let i = 0; i < 2000; i++) samples.push((x += 12_345_678 + i * 7));
    for (const ms of samples) {
      const iso = new Date(ms).toISOString();
      expect(isoUtc(ms), String(ms)).to.equal(iso);
      expect(secondsUtc(ms), String(ms)).to.equal(iso.replace(/^(.*)T(\d\d:\d\d:\d\d)\.\d{3}Z$/, '$1 $2'));
    }
  });
});
