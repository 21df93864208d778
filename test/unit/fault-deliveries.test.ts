import { expect } from 'chai';
import { countDeliveries, type Delivery } from '../faults/receiver.js';

const d = (id: string, jobId: number, event = 'completed'): Delivery => ({ id, jobId, event, at: 0, signed: true });

describe('fault scenario 11: counting webhook deliveries', () => {
  it('counts one delivery per job and event, resends of one id as duplicates', () => {
    const c = countDeliveries(new Set(['1:completed', '2:failed']), [d('10', 1), d('11', 2, 'failed'), d('10', 1), d('10', 1)]);
    expect(c).to.include({ expected: 2, delivered: 2, duplicates: 2, lost: 0, twiceById: 0, unexpected: 0, unsigned: 0 });
  });

  it('finds a lost delivery, one event under two ids, an unexpected one and an unsigned one', () => {
    const c = countDeliveries(new Set(['1:completed', '2:completed', '3:completed']), [
      d('10', 1),
      d('12', 1),
      d('11', 2, 'failed'),
      { ...d('13', 3), signed: false },
    ]);
    expect(c).to.include({ expected: 3, delivered: 2, duplicates: 0, lost: 1, twiceById: 1, unexpected: 1, unsigned: 1 });
    expect(c.detail).to.include('job 2:completed never arrived');
    expect(c.detail).to.include('job 1:completed arrived as deliveries 10, 12');
  });
});
