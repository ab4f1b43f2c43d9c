import { DestinationPolicy, parseCidrList } from './destination-policy';

describe('DestinationPolicy', () => {
  const policy = new DestinationPolicy();

  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    '::ffff:10.0.0.1',
    '::ffff:127.0.0.1',
    // IPv4-compatible (deprecated), NAT64 and 6to4/Teredo forms of private or loopback IPv4 hosts.
    '::10.0.0.1',
    '::7f00:1',
    '64:ff9b::a9fe:a9fe',
    '64:ff9b::10.0.0.1',
    '64:ff9b:1::a00:1',
    '2002:a00:1::1',
    '2002:7f00:1::',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    '2001:db8::1',
    '100::1',
  ])('refuses %s', (address) => {
    expect(policy.refusal(address)).toMatch(/private, loopback or reserved/);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    'allows the public address %s',
    (address) => {
      expect(policy.refusal(address)).toBeUndefined();
    },
  );

  it('lets an operator allow chosen networks, and only those', () => {
    const internal = new DestinationPolicy('10.20.0.0/16, fd00::/8');
    expect(internal.refusal('10.20.3.4')).toBeUndefined();
    expect(internal.refusal('fd00::5')).toBeUndefined();
    expect(internal.refusal('10.21.0.1')).toBeDefined();
    expect(internal.refusal('127.0.0.1')).toBeDefined();
  });

  it('judges an IP literal in a URL now and leaves names to delivery time', () => {
    expect(policy.refusalForUrl('http://169.254.169.254/latest/meta-data')).toBeDefined();
    expect(policy.refusalForUrl('http://[::1]:8080/hook')).toBeDefined();
    expect(policy.refusalForUrl('https://hooks.example.com/x')).toBeUndefined();
  });

  it('rejects a malformed network list naming the entry', () => {
    expect(() => parseCidrList('10.0.0.0/8,nonsense')).toThrow(/"nonsense"/);
    expect(() => parseCidrList('10.0.0.0/33')).toThrow(/10\.0\.0\.0\/33/);
    expect(parseCidrList(' ')).toEqual([]);
  });
});
