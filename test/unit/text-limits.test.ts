import { expect } from 'chai';
import { capOptional, capText } from '../../app/store/limits.js';

describe('text limits', () => {
  it('keeps text that fits, and cuts longer text with a notice, never past the limit', () => {
    expect(capText('short', 10)).to.equal('short');
    const cut = capText('x'.repeat(1_234_567), 100);
    expect(cut).to.have.length(100);
    expect(cut).to.match(/^x+… \(1,234,567 characters, cut\)$/);
    expect(capOptional(null, 10)).to.equal(null);
    expect(capOptional(undefined, 10)).to.equal(null);
  });

  it('never leaves half a surrogate pair', () => {
    const text = '😀'.repeat(100);
    const cut = capText(text, 50);
    expect(cut.length).to.be.at.most(50);
    // Round-trips through UTF-8 unchanged: no lone surrogate.
    expect(Buffer.from(cut, 'utf8').toString('utf8')).to.equal(cut);
    expect(cut).to.include('… (200 characters, cut)');
  });
});
