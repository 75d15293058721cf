; Inno Setup script: the Windows installer of the PyInstaller bundle (dist\expense-tracker\).
; Built by .github/workflows/build.yml with `iscc /DAppVersion=X build\windows\expense-tracker.iss`;
; not built or run on the Linux machines the rest of the project is tested on.
#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6F1C5B0E-3E0B-4F4B-9E55-6E2B7A3C9D11}
AppName=Expense Tracker
AppVersion={#AppVersion}
AppPublisher=Expense Tracker developers
DefaultDirName={autopf}\Expense Tracker
DefaultGroupName=Expense Tracker
DisableProgramGroupPage=yes
; per user by default (no administrator rights needed); "for all users" is offered
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
OutputDir=..\..\artefacts
OutputBaseFilename=expense-tracker-{#AppVersion}-windows-x86_64-setup
SetupIconFile=..\..\assets\icon.ico
UninstallDisplayIcon={app}\Expense Tracker.exe
Compression=lzma2/max
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
ChangesAssociations=yes
WizardStyle=modern

[Files]
Source: "..\..\dist\expense-tracker\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Expense Tracker"; Filename: "{app}\Expense Tracker.exe"
Name: "{autodesktop}\Expense Tracker"; Filename: "{app}\Expense Tracker.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Registry]
; "Open with Expense Tracker" for bank statements (OFX, QFX, QIF)
Root: HKA; Subkey: "Software\Classes\ExpenseTracker.Statement"; ValueType: string; ValueName: ""; ValueData: "Bank statement"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\ExpenseTracker.Statement\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\Expense Tracker.exe,0"
Root: HKA; Subkey: "Software\Classes\ExpenseTracker.Statement\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\Expense Tracker.exe"" ""%1"""
Root: HKA; Subkey: "Software\Classes\.ofx\OpenWithProgids"; ValueType: string; ValueName: "ExpenseTracker.Statement"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.qfx\OpenWithProgids"; ValueType: string; ValueName: "ExpenseTracker.Statement"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.qif\OpenWithProgids"; ValueType: string; ValueName: "ExpenseTracker.Statement"; ValueData: ""; Flags: uninsdeletevalue

[Run]
Filename: "{app}\Expense Tracker.exe"; Description: "{cm:LaunchProgram,Expense Tracker}"; Flags: nowait postinstall skipifsilent
