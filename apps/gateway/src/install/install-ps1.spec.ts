import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * There is no PowerShell here (nor in CI): these read the script's text for the commands that lock the
 * install down and check their order. Whether Windows accepts them is not verified by any test.
 */
const SCRIPT = readFileSync(
  join(resolve(__dirname, '..', '..', '..', '..'), 'deploy', 'install', 'install.ps1'),
  'utf8',
);
/** The script without its comment-based help and line comments: only what runs. */
const CODE = SCRIPT.replace(/<#[\s\S]*?#>/g, '')
  .split('\n')
  .filter((line) => !line.trimStart().startsWith('#'))
  .join('\n');

const at = (needle: string) => {
  const index = CODE.indexOf(needle);
  if (index === -1) throw new Error(`install.ps1 does not run: ${needle}`);
  return index;
};

describe('deploy/install/install.ps1 (text only: PowerShell is not run)', () => {
  it('strips inherited access from the whole install folder before writing the agent or the token into it', () => {
    const lockDown = at(
      "icacls.exe $InstallDir /inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F'",
    );
    expect(lockDown).toBeLessThan(at('Invoke-WebRequest -UseBasicParsing -Uri $BundleUrl'));
    expect(lockDown).toBeLessThan(at('Set-Content -Path $xmlPath'));
    // Files left by an earlier install are reset to inherit the new ACL.
    expect(at("icacls.exe (Join-Path $InstallDir '*') /reset /T")).toBeGreaterThan(lockDown);
  });

  it('runs the service as its virtual account, not LocalSystem, before starting it', () => {
    expect(CODE).toContain('$ServiceAccount = "NT SERVICE\\$ServiceName"');
    const account = at('sc.exe config $ServiceName obj= $ServiceAccount');
    expect(account).toBeGreaterThan(at('& $exePath install'));
    expect(account).toBeLessThan(at('& $exePath start'));
    expect(CODE).not.toMatch(/LocalSystem/i);
  });

  it('lets the service account read the install folder but modify only its state and logs', () => {
    const read = at('icacls.exe $InstallDir /grant:r "${ServiceAccount}:(OI)(CI)RX"');
    const modify = at('icacls.exe $dir /grant:r "${ServiceAccount}:(OI)(CI)M"');
    expect(CODE).toContain('foreach ($dir in $StateDir, $LogDir)');
    expect(CODE.match(/:\(OI\)\(CI\)M/g)).toHaveLength(1);
    for (const grant of [read, modify]) {
      expect(grant).toBeGreaterThan(at('sc.exe config'));
      expect(grant).toBeLessThan(at('& $exePath start'));
    }
  });

  it('keeps the token in the ACL-protected service definition, never on a command line', () => {
    expect(CODE).toContain('RCA_TOKEN      = $Token');
    // The node process gets the token through its environment, from the XML; its arguments are main.js only.
    expect(CODE).toContain('<arguments>"$(ConvertTo-XmlText $AgentMain)"</arguments>');
    expect(CODE).not.toMatch(/(icacls|sc\.exe|\$exePath)[^\n]*\$Token/);
    expect(CODE).toContain('$Token = (Get-Content -LiteralPath $TokenFile -TotalCount 1).Trim()');
  });
});
