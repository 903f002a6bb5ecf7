/**
 * Key/value settings of the installation, such as the confirm-link secret.
 */
export interface SettingStore {
  getSetting(key: string): Promise<string | null>;
  setSettingIfAbsent(key: string, value: string): Promise<string>;
}
