/**
 * The recipient's dynamic fields as the REST API names them: ids 1 to 39 (`campo1`…`campo39` in
 * the SOAP feed and the HTTP subscribe API), each with a description. MailUp lets an account
 * rename its fields; this server keeps no such setting, so every account has MailUp's default
 * names for the fields a new MailUp account starts with (1 to 26, the names e-commerce plugins
 * map their data to, such as `nome` and `cognome`) and `campoN` for the others.
 */

/** Highest dynamic field id the REST API accepts. */
export const DYNAMIC_FIELD_COUNT = 39;

const MAILUP_DEFAULT_NAMES = [
  'nome', 'cognome', 'azienda', 'città', 'provincia', 'cap', 'regione', 'paese', 'indirizzo', 'fax', 'telefono',
  'IDCliente', 'IDUltimoOrdine', 'DataUltimoOrdine', 'TotaleUltimoOrdine', 'IDProdottiUltimoOrdine', 'IDCategorieUltimoOrdine',
  'DataUltimoOrdineSpedito', 'IDUltimoOrdineSpedito', 'DataCarrelloAbbandonato', 'TotaleCarrelloAbbandonato', 'IDCarrelloAbbandonato',
  'TotaleFatturato', 'TotaleFatturatoUltimi12Mesi', 'TotaleFatturatoUltimi30gg', 'IDTuttiProdottiAcquistati',
] as const;

export interface DynamicField {
  readonly id: number;
  readonly description: string;
}

/** Every dynamic field, by id. */
export const DYNAMIC_FIELDS: readonly DynamicField[] = Object.freeze(Array.from({ length: DYNAMIC_FIELD_COUNT }, (_, i) => Object.freeze({
  id: i + 1, description: MAILUP_DEFAULT_NAMES[i] ?? `campo${i + 1}`,
})));

/** Whether `id` names a dynamic field. */
export const isDynamicFieldId = (id: number): boolean => Number.isInteger(id) && id >= 1 && id <= DYNAMIC_FIELD_COUNT;
